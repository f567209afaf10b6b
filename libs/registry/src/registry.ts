import { PeakWatchError } from '@peakwatch/contracts';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataFileError, displayPath, readYamlFile, type FileProblem } from './yaml-file';
import { siteSchema, type Device, type Site } from './registry.schema';

/** A device with the site it belongs to. */
export interface RegisteredDevice {
  site: Site;
  device: Device;
}

/** A device the registry cannot take: an unknown site, a taken id, a missing field; `field` names the one at fault. */
export class DeviceRefusedError extends PeakWatchError {
  readonly code: 'unknown_site' | 'device_id_taken' | 'invalid_device';
  constructor(
    readonly reason: 'unknown' | 'taken' | 'invalid',
    field: string,
    message: string,
  ) {
    super(message, { field });
    this.code =
      reason === 'unknown' ? 'unknown_site' : reason === 'taken' ? 'device_id_taken' : 'invalid_device';
  }
}

/**
 * The loaded registry: every site of seeds/sites/*.yaml. Device ids are unique across sites because a device
 * authenticates with its id as MQTT username.
 */
export class Registry {
  private readonly sitesById = new Map<string, Site>();
  private readonly devicesById = new Map<string, RegisteredDevice>();

  constructor(readonly sites: readonly Site[]) {
    for (const site of sites) {
      this.sitesById.set(site.id, site);
      for (const device of site.devices) this.devicesById.set(device.id, { site, device });
    }
  }

  site(siteId: string): Site | undefined {
    return this.sitesById.get(siteId);
  }

  /** The device with this id, anywhere in the registry. */
  device(deviceId: string): RegisteredDevice | undefined {
    return this.devicesById.get(deviceId);
  }

  /**
   * Adds a device provisioned at run time (the API) to a site; throws as {@link checkDevice} does. The files of
   * seeds/sites stay as they are.
   */
  addDevice(siteId: string, device: Device): RegisteredDevice {
    const site = this.checkDevice(siteId, device);
    site.devices.push(device);
    const registered = { site, device };
    this.devicesById.set(device.id, registered);
    return registered;
  }

  /**
   * The site a device could be added to; throws {@link DeviceRefusedError} naming the problem when the site is
   * unknown, the id is taken or a PV inverter has no kWp.
   */
  checkDevice(siteId: string, device: Device): Site {
    const site = this.sitesById.get(siteId);
    if (!site) throw new DeviceRefusedError('unknown', 'siteId', `unknown site ${siteId}`);
    const taken = this.devicesById.get(device.id);
    if (taken)
      throw new DeviceRefusedError(
        'taken',
        'id',
        `device id "${device.id}" is already used by site ${taken.site.id}`,
      );
    if (device.role === 'pv' && device.peakPowerKwp === undefined)
      throw new DeviceRefusedError('invalid', 'peakPowerKwp', 'peakPowerKwp: required for role pv');
    return site;
  }

  /** Every device, in registry order. */
  devices(): RegisteredDevice[] {
    return this.sites.flatMap((site) => site.devices.map((device) => ({ site, device })));
  }
}

/** Loads every `*.yaml` / `*.yml` in `sitesDir`; throws {@link DataFileError} listing every problem of every file. */
export function loadRegistry(sitesDir: string): Registry {
  let files: string[];
  try {
    files = readdirSync(sitesDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(sitesDir, f));
  } catch (error) {
    throw new DataFileError([
      { file: displayPath(sitesDir), path: '', problem: `cannot be read (${(error as Error).message})` },
    ]);
  }
  const problems: FileProblem[] = [];
  const sites: { site: Site; file: string }[] = [];
  for (const file of files) {
    const result = readYamlFile(file, siteSchema);
    if (result.ok) sites.push({ site: result.value, file });
    else problems.push(...result.problems);
  }
  if (files.length === 0) {
    problems.push({ file: displayPath(sitesDir), path: '', problem: 'holds no *.yaml site file' });
  }
  const siteFile = new Map<string, string>();
  const deviceSite = new Map<string, string>();
  for (const { site, file } of sites) {
    const earlier = siteFile.get(site.id);
    if (earlier) {
      problems.push({
        file: displayPath(file),
        path: 'id',
        problem: `site id "${site.id}" is also used by ${basename(earlier)}`,
      });
    }
    siteFile.set(site.id, file);
    site.devices.forEach((device, i) => {
      const other = deviceSite.get(device.id);
      if (other && other !== site.id) {
        problems.push({
          file: displayPath(file),
          path: `devices[${i}].id`,
          problem: `device id "${device.id}" is also used by site ${other}`,
        });
      }
      deviceSite.set(device.id, site.id);
    });
  }
  if (problems.length > 0) throw new DataFileError(problems);
  return new Registry(sites.map((s) => s.site));
}
