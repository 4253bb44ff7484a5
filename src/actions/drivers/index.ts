/** The service drivers, keyed by the fleet's `driver.type`: the one place a type is chosen. */
import type { DriverSpec } from '../../fleet/schema.ts';
import { commandDriver } from './command.ts';
import type { DriverOptions, ServiceDriver } from './driver.ts';
import { supervisorDriver } from './supervisor.ts';
import { systemdDriver } from './systemd.ts';

type DriverFactory<T extends DriverSpec['type']> = (
  service: string,
  spec: Extract<DriverSpec, { type: T }>,
  options: DriverOptions,
) => ServiceDriver;

export const serviceDrivers = {
  supervisor: (service, spec, options) => supervisorDriver(spec.program ?? service, options),
  systemd: (service, spec, options) => systemdDriver(spec.unit ?? `${service}.service`, options),
  command: (service, spec, options) => commandDriver(service, spec, options),
} satisfies { [T in DriverSpec['type']]: DriverFactory<T> };

export function driverFor(service: string, spec: DriverSpec, options: DriverOptions = {}): ServiceDriver {
  // TypeScript cannot correlate `spec.type` with the factory it picks; the registry's
  // `satisfies` above is what checks each pair.
  const factory = serviceDrivers[spec.type] as DriverFactory<DriverSpec['type']>;
  return factory(service, spec as never, options);
}

export { ServiceDriverError, type DriverOptions, type ServiceDriver, type ServiceState, type ServiceCommands } from './driver.ts';
