import { Injectable } from '@nestjs/common';
import type { KpiScope } from '@peakwatch/contracts';
import { Registry } from '@peakwatch/registry';
import type { Principal } from './api-keys.repository';

/**
 * What a principal may see: an admin everything; a facility manager its sites; an emitter the sites of its
 * organisation; a regulator the sites of its district and the district itself. Only an admin sees the city.
 */
@Injectable()
export class Access {
  constructor(private readonly registry: Registry) {}

  sites(principal: Principal): string[] {
    const { role, scope } = principal;
    return this.registry.sites
      .filter((site) => {
        if (role === 'admin') return true;
        if (role === 'facility_manager') return scope.includes(site.id);
        if (role === 'emitter') return site.emitter !== undefined && scope.includes(site.emitter.id);
        return scope.includes(site.district);
      })
      .map((site) => site.id);
  }

  site(principal: Principal, siteId: string): boolean {
    return this.sites(principal).includes(siteId);
  }

  entity(principal: Principal, scope: KpiScope, entity: string): boolean {
    if (scope === 'site') return this.site(principal, entity);
    if (principal.role === 'admin') return true;
    if (scope === 'district') return principal.role === 'regulator' && principal.scope.includes(entity);
    return false; // the city: admins only
  }
}
