/**
 * Two suites on ONE prepared lab of the example fleet (test/support/prepared-lab.ts), in this
 * order: plans and refusals first (they change nothing, measured by snapshots of every
 * machine), then "never make things worse" (split views and real fencing; its last test fails
 * the primary over). A lab up and a prepare less than one each.
 */
import './plan-and-refusals.suite.ts';
import './never-worse.suite.ts';
