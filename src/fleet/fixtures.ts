/**
 * A fleet file's smallest valid `database` section, for unit tests that build fleets of
 * their own shape (a service bound to a database needs one). Not used by lifeboat itself.
 */
export const MINIMAL_DATABASE_YAML = `database:
  schema: s
  user: u
  password: env:P
  adminPassword: env:A
  domainTable: { name: d, domainColumn: d, ipColumn: i, statusColumn: s, online: 1, offline: 2 }
`;
