import { MissingTranslationError, type Language } from '@peakwatch/contracts';

/**
 * Every text a person reads on the dashboards, in each language: titles, descriptions, legends (Grafana's InfluxDB
 * alias, with `$tag_<key>` standing for a tag's value), column names and value mappings. Each is a whole text, never
 * joined from fragments; terms follow the plans' own wording (docs/glossary.md). Units are Grafana unit ids, which
 * Grafana renders itself. A spec renders every dashboard in both languages and checks that they have the same keys.
 */
const en = {
  folder: 'PeakWatch (English)',
  variables: { district: 'District', site: 'Site' },
  columns: {
    time: 'Time',
    district: 'District',
    site: 'Site',
    device: 'Device',
    rule: 'Rule',
    severity: 'Severity',
    state: 'State',
    title: 'Title',
    value: 'Value',
    threshold: 'Threshold',
    completeness: 'Completeness',
  },
  values: {
    yes: 'Yes',
    no: 'No',
    firing: 'Firing',
    pending: 'Pending',
    resolved: 'Resolved',
    critical: 'Critical',
    warning: 'Warning',
    info: 'Info',
  },
  facility: {
    title: 'Facility overview',
    description:
      'Live power by sub-metering category, energy today and this month, PV, heat pumps and the weather.',
    power: { title: 'Power by sub-metering category', legend: 'Power, $tag_site $tag_role' },
    energyToday: { title: 'Energy today', legend: 'Energy today, $tag_entity' },
    energyMonth: { title: 'Energy this month', legend: 'Energy this month, $tag_entity' },
    pv: { title: 'PV output', legend: 'PV output, $tag_device' },
    cop: { title: 'Heat-pump COP (hourly)', legend: 'COP, $tag_entity $tag_category' },
    outdoor: { title: 'Outdoor temperature', legend: 'Outdoor temperature, $tag_site' },
  },
  dataCentre: {
    title: 'Data centre',
    description:
      'PUE per ISO/IEC 30134-2 (interval and rolling 12 months) against the Beijing limits, IT and facility load, and the renewable share against its trajectory.',
    pue: {
      title: 'PUE, hourly and daily',
      description: 'Limits: 1.3 for new data centres, 1.35 for existing ones from 2026 (seeds/policy).',
      hourly: 'Hourly PUE, $tag_entity',
      daily: 'Daily PUE, $tag_entity',
    },
    pue12: { title: 'PUE, rolling 12 months', legend: 'Rolling 12-month PUE, $tag_entity' },
    districtPue: {
      title: "District PUE, rolling 12 months: its data centres' energy over their IT energy",
      description:
        "The national data-centre action plan's average PUE below 1.5 by the end of 2025 (seeds/policy), for the district's data centres together.",
      legend: 'District PUE, $tag_entity',
    },
    load: { title: 'IT and facility load', legend: 'Load, $tag_role' },
    renewable: {
      title: 'Renewable share against its trajectory',
      description:
        'New data centres: +10 points a year from commissioning (海淀区碳达峰实施方案 §七(二), an unverified reading).',
      share: 'Renewable share, $tag_entity',
      target: 'Trajectory, $tag_entity',
    },
  },
  renewables: {
    title: 'Renewables',
    description:
      'Renewable share of energy use (tce, generation method) by site and district against the Beijing targets: 14.4% by 2025, about 25% by 2030.',
    method:
      'Renewable share of energy use in tce, electricity by the generation method (发电煤耗法), as the targets count it; the calorific method (当量值) beside it.',
    bySite: {
      title: 'Renewable share by site, monthly',
      description:
        'Renewable share of energy use in tce, electricity by the generation method (发电煤耗法), as the targets count it; the calorific method (当量值) beside it. A month with nothing renewable metered and no green power declared is not drawn: it has no share, not one of 0.',
      generation: 'Generation method, $tag_entity',
      calorific: 'Calorific method, $tag_entity',
    },
    byDistrict: {
      title: 'Renewable share by district, monthly',
      generation: 'Generation method, $tag_entity',
      calorific: 'Calorific method, $tag_entity',
    },
    year: {
      title: 'Renewable share this year, by district (generation method)',
      legend: 'Renewable share this year, $tag_entity',
    },
  },
  buildings: {
    title: 'Buildings',
    description:
      "Electricity use intensity (kWh/m², the basis of GB/T 51161-2016) against the guide and constraint values seeded for a cold-zone class A office (a Shaanxi case study's figures, not the standard's Beijing table: unverified), by sub-metering category; comprehensive energy and CO2 per m² against the baseline.",
    eui12: { title: 'Energy intensity, rolling 12 months', legend: 'kWh/m² over 12 months, $tag_entity' },
    euiMonth: { title: 'Energy intensity by month', legend: 'kWh/m² in the month, $tag_entity' },
    daily: {
      title: 'Daily energy by sub-metering category',
      legend: 'Energy, $tag_entity $tag_category',
    },
    perM2: {
      title: 'Per m² this year (annualised) against the baseline',
      description:
        "Comprehensive energy (kgce/m², GB/T 2589: electricity, gas and district heat), carbon (kg/m², at the baseline year's factors) and electricity (kWh/m²) per m² this year (annualised), and the baseline year's; the reductions and their 2025 targets are the next panel.",
      kgce: 'Comprehensive energy this year (kgce/m²), $tag_entity',
      kgceBaseline: 'Comprehensive energy in the baseline year (kgce/m²), $tag_entity',
      co2: 'CO2 this year (kg/m²), $tag_entity',
      co2Baseline: 'CO2 in the baseline year (kg/m²), $tag_entity',
      kwh: 'Electricity this year (kWh/m²), $tag_entity',
      kwhBaseline: 'Electricity in the baseline year (kWh/m²), $tag_entity',
    },
    reduction: {
      title: 'Reduction per m² this year against the baseline, and the 2025 targets',
      description:
        "Public institutions: at least 8% less comprehensive energy (单位建筑面积综合能耗, kgce/m²) and 9% less carbon per m² than the baseline year by 2025 (海淀区碳达峰实施方案 §七(一), seeds/policy); 1 − this year so far, projected to its end, over the baseline. Carbon is at the baseline year's factors in both years, so a revised grid factor is not a reduction.",
      energy: 'Comprehensive energy reduction, $tag_entity',
      co2: 'Carbon reduction, $tag_entity',
    },
    quota: {
      title: 'Quota burn: electricity this year against the annual quota',
      description:
        'Beijing public buildings ≥ 3,000 m² (用电限额); the KPI quota_use is the use projected to the year end; more than 20% over may bring an energy audit.',
      used: 'Electricity this year, $tag_entity',
      quota: 'Annual quota, $tag_entity',
    },
    co2: { title: 'CO2 by month (location-based)', legend: 'CO2 (t), $tag_entity' },
  },
  cost: {
    title: 'Cost and peaks',
    description:
      'Electricity cost at the time-of-use tariff by band, average price, peak demand, load factor and the districts\' coincident peak (docs/domain.md, "Cost and peaks").',
    byBand: {
      title: 'Cost by band, daily',
      description:
        "Each quarter hour bought (grid imports; a data centre's total meter) at the price of its band (尖峰, 高峰, 平段, 低谷) in the tariff version in force on its date. A site without a tariff has none (not 0).",
      legend: 'Cost, $tag_entity $tag_category',
    },
    price: {
      title: 'Average price, daily',
      description: 'CNY per kWh bought: the cost over the energy it was for.',
      legend: 'Average price (CNY/kWh), $tag_entity',
    },
    peakShare: {
      title: 'Share of energy in the peak bands, daily',
      description:
        'kWh bought in the critical and peak bands over all kWh bought: what shifting to the valley lowers.',
      legend: 'Share in the peak bands, $tag_entity',
    },
    demand: {
      title: 'Peak demand and the load in the peak hours, daily',
      description:
        "The largest 15-minute average load of the site's supply meter (最大需量), and its average load in the peak bands' quarter hours.",
      peak: 'Peak demand, $tag_entity',
      peakHours: 'Load in the peak hours, $tag_entity',
    },
    loadFactor: {
      title: 'Load factor, daily',
      description: 'The energy bought over the peak demand held all day: the flatter the load, the nearer 1.',
      legend: 'Load factor, $tag_entity',
    },
    coincident: {
      title: 'Coincident peak of the district, daily',
      description:
        "The largest quarter hour of the district's sites' summed load (同时最大负荷): not the sum of their peaks, which need not coincide.",
      legend: 'Coincident peak, $tag_entity',
    },
    position: {
      title: "Emitters' carbon-market position",
      org: 'Emitter',
      year: 'Year',
      allowance: 'Allowance (t CO2)',
      toDate: 'Emitted to date (t CO2)',
      projected: 'Projected for the year (t CO2)',
      surplus: 'Surplus (t CO2)',
      surplusCny: 'Surplus (CNY)',
      warning: 'Warning',
    },
    projected: {
      title: 'Projected emissions against the allowance',
      description:
        'As each monthly report states it (docs/reports.md, "Carbon-market position"): CO2 of the months filed, projected to the year\'s end, against the allowance (配额) declared; t CO2.',
      projected: 'Projected for the year, $tag_org',
      allowance: 'Allowance, $tag_org',
      toDate: 'Emitted to date, $tag_org',
    },
  },
  demandResponse: {
    title: 'Demand response',
    description:
      'Demand-response events: each site\'s load against its baseline, the measured results, and the district\'s peak-shaving capability (docs/domain.md, "Demand response").',
    annotation: 'Demand-response events',
    load: {
      title: 'Load against the event baseline',
      description:
        "Each quarter hour: the site's load, and over an event the baseline it is measured against (the mean of its 5 previous working days, adjusted by the morning ratio).",
      load: 'Load, $tag_entity',
      baseline: 'Baseline, $tag_entity (event $tag_category)',
    },
    events: {
      title: 'Events measured',
      event: 'Event',
      total: 'All sites of the event',
      requested: 'Requested (kW)',
      reduced: 'Reduced (kW)',
      shifted: 'Shifted (kWh)',
      met: 'Met',
    },
    capability: {
      title: 'Peak-shaving capability this year',
      description:
        "The largest reduction the district's sites made together in one event this year, over the district's maximum load of the year; the plan's target is 3–5 % (京政发〔2022〕31号).",
      legend: 'Peak-shaving capability, $tag_entity',
    },
  },
  alerts: {
    title: 'Alerts',
    description: 'Alert events of the district: as annotations and as a table.',
    annotation: 'Alerts',
    events: { title: 'Alert events', legend: 'Alert events, $tag_severity' },
    history: { title: 'Alert history' },
  },
  standing: {
    title: 'District standing',
    description:
      'A regulator\'s page: every site of the district against the thresholds regulators are alerted on, worst first (docs/contracts.md, "District standing").',
    sites: {
      title: 'Sites against their thresholds, worst first',
      description:
        'Margin: how far past its threshold, as a fraction (value ÷ threshold − 1 for a limit, threshold − value for a floor); no value: too few readings to judge (completeness beside it), or not yet evaluated. State: the alert of the rule for the site (firing, pending: open).',
      margin: 'Margin',
    },
  },
  deviceHealth: {
    title: 'Device health',
    description:
      'When each device was last heard from, completeness per site and day, rejected messages by reason, late data, and incidents.',
    lastSeen: { title: 'Last seen', time: 'Last heard from', seq: 'Sequence number' },
    completeness: { title: 'Completeness by site, daily', legend: 'Completeness, $tag_entity' },
    rejected: { title: 'Rejected messages by reason', legend: 'Rejected, $tag_reason' },
    late: { title: 'Late readings received', legend: 'Late readings, $tag_site' },
  },
  incidents: {
    title: 'Incidents',
    description:
      "Alerts grouped by their common cause (the platform, a gateway, a segment or a site): each incident's latest state at each site, with the number of its alerts there.",
    kind: 'Kind',
    cause: 'Cause',
    members: 'Alerts',
    platform: 'Platform',
    gateway: 'Gateway',
    segment: 'Segment',
    site: 'Site',
    open: 'Open',
    resolved: 'Resolved',
  },
};

/** The shape every language's texts have (the English one's). */
export type DashboardTexts = typeof en;

const zhCN: DashboardTexts = {
  folder: 'PeakWatch',
  variables: { district: '辖区', site: '站点' },
  columns: {
    time: '时间',
    district: '辖区',
    site: '站点',
    device: '设备',
    rule: '规则',
    severity: '级别',
    state: '状态',
    title: '标题',
    value: '数值',
    threshold: '阈值',
    completeness: '数据完整率',
  },
  values: {
    yes: '是',
    no: '否',
    firing: '告警',
    pending: '待定',
    resolved: '已恢复',
    critical: '严重',
    warning: '警告',
    info: '提示',
  },
  facility: {
    title: '设施概览',
    description: '各分项计量类别的实时功率、今日与本月用电量、光伏、热泵与天气。',
    power: { title: '分项计量功率', legend: '$tag_site $tag_role 功率' },
    energyToday: { title: '今日用电量', legend: '$tag_entity 今日用电量' },
    energyMonth: { title: '本月用电量', legend: '$tag_entity 本月用电量' },
    pv: { title: '光伏发电功率', legend: '$tag_device 光伏发电功率' },
    cop: { title: '热泵性能系数（COP，逐时）', legend: '$tag_entity $tag_category 性能系数' },
    outdoor: { title: '室外温度', legend: '$tag_site 室外温度' },
  },
  dataCentre: {
    title: '数据中心',
    description:
      '电能利用效率（PUE，依据 ISO/IEC 30134-2，按统计间隔与滚动 12 个月）对照北京市限值，IT 负载与总负载，以及可再生能源利用比例对照其目标轨迹。',
    pue: {
      title: '电能利用效率（PUE），逐时与逐日',
      description: '限值：新建数据中心 1.3，存量数据中心自 2026 年起 1.35（seeds/policy）。',
      hourly: '$tag_entity 逐时 PUE',
      daily: '$tag_entity 逐日 PUE',
    },
    pue12: { title: '电能利用效率（PUE），滚动 12 个月', legend: '$tag_entity 滚动 12 个月 PUE' },
    districtPue: {
      title: '辖区电能利用效率（PUE），滚动 12 个月：辖区数据中心总耗电量与其 IT 设备耗电量之比',
      description:
        '全国数据中心行动计划：到 2025 年底平均 PUE 降至 1.5 以下（seeds/policy），此处为辖区内数据中心合计。',
      legend: '$tag_entity 辖区 PUE',
    },
    load: { title: 'IT 负载与总负载', legend: '$tag_role 负载' },
    renewable: {
      title: '可再生能源利用比例对照目标轨迹',
      description:
        '新建数据中心：自投运起每年提高 10 个百分点（海淀区碳达峰实施方案 §七(二)，解读未经核实）。',
      share: '$tag_entity 可再生能源利用比例',
      target: '$tag_entity 目标轨迹',
    },
  },
  renewables: {
    title: '可再生能源',
    description:
      '可再生能源消费比重（吨标准煤，发电煤耗法），按站点与辖区，对照北京市目标：2025 年达到 14.4%，2030 年达到 25% 左右。',
    method:
      '以吨标准煤计的可再生能源消费比重，电力按发电煤耗法折算（与目标的统计口径一致），并列当量值法的比重。',
    bySite: {
      title: '各站点可再生能源消费比重（逐月）',
      description:
        '以吨标准煤计的可再生能源消费比重，电力按发电煤耗法折算（与目标的统计口径一致），并列当量值法的比重。某月既无可再生能源计量、也未申报绿电时不绘制：该月没有比重，而不是比重为 0。',
      generation: '$tag_entity 发电煤耗法',
      calorific: '$tag_entity 当量值法',
    },
    byDistrict: {
      title: '各辖区可再生能源消费比重（逐月）',
      generation: '$tag_entity 发电煤耗法',
      calorific: '$tag_entity 当量值法',
    },
    year: {
      title: '本年度各辖区可再生能源消费比重（发电煤耗法）',
      legend: '$tag_entity 本年度可再生能源消费比重',
    },
  },
  buildings: {
    title: '建筑',
    description:
      '单位建筑面积能耗（电，kWh/m²，GB/T 51161-2016 的计量基础）对照为寒冷地区 A 类办公建筑设定的引导值与约束值（取自陕西的案例研究，并非该标准的北京数值：未经核实），按分项计量类别；单位建筑面积综合能耗与碳排放对照基准年。',
    eui12: { title: '单位建筑面积能耗，滚动 12 个月', legend: '$tag_entity 12 个月单位建筑面积能耗' },
    euiMonth: { title: '单位建筑面积能耗（逐月）', legend: '$tag_entity 当月单位建筑面积能耗' },
    daily: { title: '分项计量日用电量', legend: '$tag_entity $tag_category 用电量' },
    perM2: {
      title: '本年度单位建筑面积指标（年化）对照基准年',
      description:
        '本年度（年化）与基准年的单位建筑面积综合能耗（千克标准煤/m²，GB/T 2589：电力、燃气与市政热力）、碳排放（kg/m²，按基准年排放因子）与用电量（kWh/m²）；降幅及其 2025 年目标见下一面板。',
      kgce: '$tag_entity 本年度综合能耗（千克标准煤/m²）',
      kgceBaseline: '$tag_entity 基准年综合能耗（千克标准煤/m²）',
      co2: '$tag_entity 本年度碳排放（kg/m²）',
      co2Baseline: '$tag_entity 基准年碳排放（kg/m²）',
      kwh: '$tag_entity 本年度用电量（kWh/m²）',
      kwhBaseline: '$tag_entity 基准年用电量（kWh/m²）',
    },
    reduction: {
      title: '本年度单位建筑面积降幅（对照基准年）及 2025 年目标',
      description:
        '公共机构：到 2025 年单位建筑面积综合能耗（千克标准煤/m²）比基准年下降至少 8%，单位建筑面积碳排放下降 9%（海淀区碳达峰实施方案 §七(一)，seeds/policy）；降幅为 1 − 本年度至今推算至年末的值 ÷ 基准年的值。两年的碳排放均按基准年的排放因子计算，因此电网排放因子的修订不算降幅。',
      energy: '$tag_entity 综合能耗降幅',
      co2: '$tag_entity 碳排放降幅',
    },
    quota: {
      title: '用电限额：本年度用电量对照年度限额',
      description:
        '北京市 3000 m² 及以上的公共建筑（用电限额）；指标 quota_use 为推算至年末的用电量；超出限额 20% 以上可能被要求进行能源审计。',
      used: '$tag_entity 本年度用电量',
      quota: '$tag_entity 年度用电限额',
    },
    co2: { title: '逐月碳排放（基于所在地电网排放因子）', legend: '$tag_entity 碳排放（吨）' },
  },
  cost: {
    title: '电费与峰值',
    description:
      '按分时电价各时段计算的电费、平均电价、最大需量、负荷率及辖区同时最大负荷（docs/domain.md，“Cost and peaks”）。',
    byBand: {
      title: '各时段电费（逐日）',
      description:
        '每刻钟的购电量（电网下网电量；数据中心取其总表）按当日有效电价版本中所属时段（尖峰、高峰、平段、低谷）的电价计费。未配置电价的站点没有电费（而不是 0）。',
      legend: '$tag_entity $tag_category 电费',
    },
    price: {
      title: '平均电价（逐日）',
      description: '每千瓦时购电的平均价格（元/kWh）：电费除以其对应的电量。',
      legend: '$tag_entity 平均电价（元/kWh）',
    },
    peakShare: {
      title: '峰段电量占比（逐日）',
      description: '尖峰与高峰时段购电量占全部购电量的比例：将负荷移至低谷可降低此比例。',
      legend: '$tag_entity 峰段电量占比',
    },
    demand: {
      title: '最大需量与峰段负荷（逐日）',
      description: '站点供电总表 15 分钟平均负荷的最大值（最大需量），以及其在峰段各刻钟的平均负荷。',
      peak: '$tag_entity 最大需量',
      peakHours: '$tag_entity 峰段平均负荷',
    },
    loadFactor: {
      title: '负荷率（逐日）',
      description: '购电量除以以最大需量运行全天的电量：负荷越平稳，越接近 1。',
      legend: '$tag_entity 负荷率',
    },
    coincident: {
      title: '辖区同时最大负荷（逐日）',
      description:
        '辖区各站点负荷之和在各刻钟中的最大值（同时最大负荷）：不是各站点峰值之和，因为它们未必同时出现。',
      legend: '$tag_entity 同时最大负荷',
    },
    position: {
      title: '重点碳排放单位的碳市场履约情况',
      org: '重点碳排放单位',
      year: '年份',
      allowance: '配额（吨二氧化碳）',
      toDate: '至今排放（吨二氧化碳）',
      projected: '预计全年排放（吨二氧化碳）',
      surplus: '盈余（吨二氧化碳）',
      surplusCny: '盈余（元）',
      warning: '预警',
    },
    projected: {
      title: '预计排放对照配额',
      description:
        '以每份月度报告所述为准（docs/reports.md，“Carbon-market position”）：已报送月份的二氧化碳排放推算至年末，对照申报的配额；单位：吨二氧化碳。',
      projected: '$tag_org 预计全年排放',
      allowance: '$tag_org 配额',
      toDate: '$tag_org 至今排放',
    },
  },
  demandResponse: {
    title: '需求响应',
    description:
      '需求响应事件：各站点负荷对照其基线、测量结果以及辖区削峰能力（docs/domain.md，“Demand response”）。',
    annotation: '需求响应事件',
    load: {
      title: '负荷对照事件基线',
      description:
        '每刻钟：站点的负荷，以及事件期间衡量它所用的基线（前 5 个工作日的平均值，按早间比例调整）。',
      load: '$tag_entity 负荷',
      baseline: '$tag_entity 基线（事件 $tag_category）',
    },
    events: {
      title: '已测量的需求响应事件',
      event: '需求响应事件',
      total: '事件全部站点合计',
      requested: '要求削减（kW）',
      reduced: '实际削减（kW）',
      shifted: '转移电量（kWh）',
      met: '是否达标',
    },
    capability: {
      title: '本年度削峰能力',
      description:
        '本年度辖区各站点在单次事件中合计实现的最大削减负荷，除以辖区本年度最大负荷；规划目标为 3–5%（京政发〔2022〕31号）。',
      legend: '$tag_entity 削峰能力',
    },
  },
  alerts: {
    title: '告警',
    description: '辖区的告警记录：以注释与表格显示。',
    annotation: '告警',
    events: { title: '告警记录数', legend: '$tag_severity 告警记录数' },
    history: { title: '告警历史' },
  },
  standing: {
    title: '辖区站点达标情况',
    description:
      '监管视图：辖区每个站点对照监管部门据以告警的阈值，超出最多的在前（docs/contracts.md，“District standing”）。',
    sites: {
      title: '各站点对照阈值，超出最多的在前',
      description:
        '超出幅度：超过阈值的程度，以比例表示（限值为 数值 ÷ 阈值 − 1，下限为 阈值 − 数值）；无数值：读数不足无法判断（见旁边的数据完整率），或尚未评估。状态：该规则在该站点的告警（告警、待定：未关闭）。',
      margin: '超出幅度',
    },
  },
  deviceHealth: {
    title: '设备健康',
    description: '各设备最近一次上报时间、各站点每日数据完整率、按原因统计的被拒消息、迟到数据以及事件。',
    lastSeen: { title: '最近上报', time: '最近上报时间', seq: '序号' },
    completeness: { title: '各站点数据完整率（逐日）', legend: '$tag_entity 数据完整率' },
    rejected: { title: '按原因统计的被拒消息', legend: '$tag_reason 被拒消息数' },
    late: { title: '收到的迟到读数', legend: '$tag_site 迟到读数' },
  },
  incidents: {
    title: '事件',
    description:
      '按共同原因（平台、网关、网段或站点）归并的告警：每个事件在每个站点的最新状态，以及该站点属于它的告警数。',
    kind: '类型',
    cause: '原因',
    members: '告警数',
    platform: '平台',
    gateway: '网关',
    segment: '网段',
    site: '站点',
    open: '未关闭',
    resolved: '已恢复',
  },
};

/** The dashboards' texts by language: zh-CN first (docs/glossary.md). */
export const DASHBOARD_TEXTS: Readonly<Record<Language, DashboardTexts>> = { 'zh-CN': zhCN, en };

type Leaves<T> = {
  [K in keyof T & string]: T[K] extends string ? K : `${K}.${Leaves<T[K]>}`;
}[keyof T & string];

/** The key of one text: its path in {@link DashboardTexts}, e.g. `facility.power.title`. */
export type TextKey = Leaves<DashboardTexts>;

/** The texts of one language: throws {@link MissingTranslationError} for a key it has no text for. */
export type Texts = (key: TextKey) => string;

/**
 * The dashboard texts of `language`, looked up by key. A key without a non-empty text (or a language without texts)
 * throws {@link MissingTranslationError}: a dashboard is never generated with a key shown in place of its text.
 * `texts` is for the spec, which takes texts away to see the throw.
 */
export function dashboardTexts(language: Language, texts: unknown = DASHBOARD_TEXTS): Texts {
  const table = (texts as Record<string, unknown>)[language];
  return (key) => {
    let node: unknown = table;
    for (const part of key.split('.'))
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
    if (typeof node !== 'string' || node.trim() === '')
      throw new MissingTranslationError(`no ${language} dashboard text for "${key}"`);
    return node;
  };
}

/** Every key of a texts object (`a.b.c` for its leaves), for the spec's comparison of the languages. */
export function textKeys(texts: object, prefix = ''): string[] {
  return Object.entries(texts).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? textKeys(value as object, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}
