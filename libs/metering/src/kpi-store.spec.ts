import { kpiLine } from './kpi-store';

const W = Date.UTC(2026, 10, 20, 16); // 2026-11-21 00:00 in Beijing

describe('kpiLine', () => {
  it('writes the kpi series of docs/contracts.md, stamped with the window start', () => {
    const line = kpiLine(
      {
        kpi: 'pue',
        windowStartMs: W,
        value: 1.38,
        numerator: 13800,
        denominator: 10000,
        completeness: 0.99,
        estimated: false,
        estimatedShare: 0,
      },
      { scope: 'site', entity: 'hd-dc1', period: '1d' },
    );
    expect(line).toBe(
      `kpi,entity=hd-dc1,kpi=pue,period=1d,scope=site value=1.38,numerator=13800,denominator=10000,completeness=0.99,estimated=false,estimated_share=0 ${W}`,
    );
  });

  it('tags the sub-metering category, and leaves out the value of a window without data (never a zero)', () => {
    const line = kpiLine(
      {
        kpi: 'energy_kwh',
        category: 'hvac',
        windowStartMs: W,
        value: null,
        numerator: 0,
        denominator: 1,
        completeness: 0,
        estimated: false,
        estimatedShare: 0,
      },
      { scope: 'site', entity: 'hd-b1', period: '15m' },
    );
    expect(line).toBe(
      `kpi,category=hvac,entity=hd-b1,kpi=energy_kwh,period=15m,scope=site numerator=0,denominator=1,completeness=0,estimated=false,estimated_share=0 ${W}`,
    );
  });
});
