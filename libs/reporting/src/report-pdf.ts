import { PeakWatchError } from '@peakwatch/contracts';
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { Report } from './report-schema';

/** CJK fonts from Debian's packages, embedded (subset) in the PDF so that it reads the same everywhere. */
const CJK_FONTS: [file: string, family: string][] = [
  ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', 'WenQuanYiMicroHei'],
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
];

export class MissingFontError extends PeakWatchError {
  readonly code = 'missing_font';
  constructor() {
    super(
      `no CJK font for the PDF report (looked for ${CJK_FONTS.map(([f]) => f).join(', ')}). ` +
        'Install it with: sudo apt-get install -y fonts-wqy-microhei',
    );
  }
}

const number = (x: number, digits = 1): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const CARRIER_LABELS: Record<Report['energy']['carriers'][number]['carrier'], string> = {
  grid_electricity: '电网电力 Grid electricity',
  onsite_pv: '自发光伏 On-site PV',
  green_certificates: '绿证电力 Certificate-backed green power',
  green_power_contracts: '绿电交易 Green-power contracts',
  natural_gas: '天然气 Natural gas',
  purchased_heat: '外购热力 Purchased heat',
};

/** The report as a PDF a person would file: Chinese and English labels, the figures, the factors, the meters. */
export function reportPdf(
  report: Report,
  meta: { version: number; corrects?: number; changes?: string[]; causes?: string[] },
): Promise<Buffer> {
  const font = CJK_FONTS.find(([file]) => existsSync(file));
  if (!font) throw new MissingFontError();
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `PeakWatch report ${report.organisation.id} ${report.period.label}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.registerFont('cjk', font[0], font[1]);
  doc.font('cjk');
  const title =
    report.kind === 'monthly'
      ? '月度能源与碳排放报告 Monthly energy and emissions report'
      : '年度温室气体排放报告 Annual greenhouse-gas report';
  doc.fontSize(16).text(title);
  doc.moveDown(0.5).fontSize(10);
  doc.text(`报告主体 Organisation: ${report.organisation.name} (${report.organisation.id})`);
  doc.text(
    `报告期 Period: ${report.period.label} (${report.period.from} – ${report.period.to}, ${report.period.timeZone})`,
  );
  doc.text(`版本 Version: ${meta.version}${meta.corrects ? `, 更正 corrects version ${meta.corrects}` : ''}`);
  doc.text(`数据完整率 Completeness: ${number(report.completeness * 100)}%`);
  doc.text(`内容哈希 Content hash: ${report.contentHash}`);
  doc.moveDown().fontSize(12).text('边界 Boundary');
  doc.fontSize(10);
  for (const site of report.boundary)
    doc.text(
      `  ${site.siteId}  ${site.name}  ${site.district}  ${site.type}  ${number(site.floorAreaM2, 0)} m²`,
    );
  doc.moveDown().fontSize(12).text('能源消费 Energy by carrier');
  doc.fontSize(10);
  for (const c of report.energy.carriers)
    doc.text(`  ${CARRIER_LABELS[c.carrier]}: ${number(c.quantity)} ${c.unit}  =  ${number(c.tce, 3)} tce`);
  for (const g of report.energy.greenPower)
    doc.text(
      `    ${g.kind === 'contract' ? '绿电交易 contract' : '绿证 certificates'} ${g.evidenceId}: ${number(g.mwh, 3)} MWh${g.siteId ? ` (${g.siteId})` : ''}`,
    );
  doc.text(`  上网电量 Exported: ${number(report.energy.exportedKwh)} kWh`);
  doc.text(`  综合能耗 Total energy: ${number(report.energy.totalTce, 3)} tce`);
  doc.moveDown().fontSize(12).text('二氧化碳排放 CO2 emissions (t)');
  doc.fontSize(10);
  const e = report.emissions;
  doc.text(`  直接排放 Direct (natural gas): ${number(e.directT, 3)}`);
  doc.text(
    `  外购电力间接排放 Indirect, electricity (location-based): ${number(e.indirectElectricityLocationT, 3)}`,
  );
  doc.text(
    `  外购电力间接排放 Indirect, electricity (market-based): ${number(e.indirectElectricityMarketT, 3)}`,
  );
  doc.text(`  外购热力 Indirect, heat: ${number(e.heatT, 3)}`);
  doc.text(`  合计 Total (location-based): ${number(e.totalLocationT, 3)}`);
  doc.moveDown().fontSize(12).text('强度 Intensities');
  doc.fontSize(10);
  doc.text(`  单位面积电耗 Electricity per m²: ${report.intensities.energyKwhPerM2 ?? '—'} kWh/m²`);
  doc.text(`  单位面积碳排放 CO2 per m²: ${report.intensities.co2KgPerM2 ?? '—'} kg/m²`);
  const perOutput = report.intensities.perOutput;
  if (perOutput)
    doc.text(
      `  单位产出 Per unit of output (${perOutput.unit}, ${number(perOutput.quantity, 0)}): ` +
        `${perOutput.tcePerUnit} tce, ${perOutput.co2TPerUnit} t CO2`,
    );
  const market = report.carbonMarket;
  if (market) {
    const t = (x: number | null): string => (x === null ? '—' : `${number(x, 4)} t`);
    doc.moveDown().fontSize(12).text('碳市场履约 Carbon-market position');
    doc.fontSize(9);
    doc.text(`  配额 Allowance: ${number(market.allowanceT, 4)} t (declaration ${market.allowanceVersion})`);
    doc.text(`  累计排放 Emissions to date (months ${market.monthsFiled.join(', ')}): ${t(market.toDateT)}`);
    doc.text(
      `  预计全年 Projected for the year: ${t(market.projectedT)} (${market.method ?? 'no projection'})`,
    );
    doc.text(
      `  ${market.surplusT !== null && market.surplusT < 0 ? '缺口 Shortfall' : '盈余 Surplus'}: ` +
        `${t(market.surplusT === null ? null : Math.abs(market.surplusT))}` +
        (market.surplusCny !== null ? `, ${number(Math.abs(market.surplusCny), 2)} CNY` : ''),
    );
    if (market.warning)
      doc.text(`  预警 Warning: the projected shortfall exceeds ${market.warnShortfallT} t`);
  }
  doc.moveDown().fontSize(12).text('排放因子 Factors used');
  doc.fontSize(9);
  for (const f of report.factors)
    doc.text(`  ${f.id}: ${f.value} ${f.unit}${f.year ? ` (${f.year})` : ''} — ${f.source}`);
  if (meta.changes?.length) {
    doc.moveDown().fontSize(12).text('更正说明 Changes from the previous version');
    doc.fontSize(9);
    for (const change of meta.changes) doc.text(`  ${change}`);
  }
  if (meta.causes?.length) {
    doc.moveDown().fontSize(12).text('更正原因 What caused them');
    doc.fontSize(9);
    for (const cause of meta.causes) doc.text(`  ${cause}`);
  }
  doc.moveDown().fontSize(12).text('计量表 Meters');
  doc.fontSize(8);
  for (const m of report.meters)
    doc.text(
      `  ${m.siteId}/${m.deviceId} ${m.metric}: ${number(m.quantity, 3)} ${m.unit}${m.estimated ? ' (估算 estimated)' : ''}, ` +
        `readings ${m.readingsReceived}/${m.readingsExpected}`,
    );
  doc.moveDown().fontSize(8).text(`缺测处理 Gaps: ${report.gapTreatment}`);
  doc.end();
  return done;
}
