-- The tables of the seed's richer stand-in variants, in the fleet's schema (the caller
-- selects it). Idempotent: safe to run on every `lab up` and after a restore (a restored
-- dump lacks `user_logs`, seed §4.3 step 3).

CREATE TABLE IF NOT EXISTS users (
  id bigint NOT NULL AUTO_INCREMENT,
  username varchar(64) NOT NULL,
  password_hash varchar(255) NOT NULL,
  expires_at datetime NULL DEFAULT NULL,
  expired tinyint NOT NULL DEFAULT 0,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (id),
  UNIQUE KEY uk_username (username),
  KEY idx_expiry (expired, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Exactly the DDL of seed §4.3 step 3.
CREATE TABLE IF NOT EXISTS user_logs (
  id bigint NOT NULL AUTO_INCREMENT,
  user_id bigint NOT NULL,
  datestr varchar(32) NOT NULL,
  ip varchar(32) NOT NULL,
  user_agent varchar(1000) NULL DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NULL DEFAULT NULL,
  comment varchar(255) NULL DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_user_date (user_id, datestr)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='user log table, first event only';

CREATE TABLE IF NOT EXISTS t_app_dns (
  id bigint NOT NULL AUTO_INCREMENT,
  domain varchar(253) NOT NULL,
  ip varchar(45) NOT NULL,
  status tinyint NOT NULL DEFAULT 1 COMMENT '1 online, 2 offline',
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (id),
  UNIQUE KEY uk_domain (domain),
  KEY idx_ip (ip)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS chat_messages (
  id bigint NOT NULL AUTO_INCREMENT,
  sender varchar(64) NOT NULL,
  body varchar(2000) NOT NULL,
  created_at timestamp(6) NOT NULL DEFAULT current_timestamp(6),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per go-job pass; runs from two hosts that overlap in time mean two schedulers.
CREATE TABLE IF NOT EXISTS job_runs (
  id bigint NOT NULL AUTO_INCREMENT,
  host varchar(255) NOT NULL,
  started_at datetime(6) NOT NULL,
  finished_at datetime(6) NULL DEFAULT NULL,
  expired_users int NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY idx_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
