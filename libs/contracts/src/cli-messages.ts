/**
 * The texts of the `peakwatch` command line that a person reads (README, "Command line"), in each language (i18n.ts),
 * merged into the messages under `cli`. Each is a whole line or sentence with named values; what scripts read (JSON,
 * CSV, ids and secrets alone on a line, the commands a person copies, logs) is never among them. Terms as in
 * docs/glossary.md. The English texts are the command line's output as it was before it had a language: specs and
 * scripts read them.
 *
 * - `list`: what separates the items of a list inside a sentence (`items` phrases, `names` ids and codes).
 * - `runningDemo`: what a command beside a running demo says on standard error.
 * - `demo`: what `peakwatch demo` prints for a person: its endpoints, the KPIs and report once its history is in, the
 *   commands to try (their comments), the alerts as they fire and resolve; its refusals.
 * - `kpi`, `report`, `verify`, `import`, `plan` (an import's dry run), `retention`, `apikey`, `secret`, `sim`: each
 *   command's results, usage errors (exit 2) and failures (exit 1).
 */
export const en = {
  list: { items: ', ', names: ', ' },
  runningDemo: { influx: "INFLUX_URL is not set: using the running demo's, {{url}}" },
  demo: {
    notLoopback:
      'demo runs its own influxd on loopback; INFLUX_URL={{url}} is not http://127.0.0.1:<port>. Use `peakwatch start` to run against an existing InfluxDB.',
    portInUse:
      'port {{port}} is already in use, so the demo cannot start its influxd there. Stop what listens on it, or choose another port: {{command}}',
    running: 'PeakWatch demo is running. Press Ctrl-C to stop everything.',
    mqtt: '  MQTT broker   {{url}}  (devices publish to energy/v1/{siteId}/{deviceId}/telemetry)',
    http: '  HTTP          {{health}}  {{api}}',
    influx: '  InfluxDB      {{url}}  database "{{database}}"',
    simulator:
      '  Simulator     {{scenario}}: history since {{since}}, then real time (ground truth: {{truth}})',
    dashboards: '  Dashboards    {{command}}   then {{url}}',
    data: '  Data          {{dir}}',
    kpis: 'KPIs of {{day}} ({{zone}}), from the readings (more: the commands below):',
    kpiLine: '  {{entity}} {{kpis}}; completeness {{completeness}}%',
    entityOf: { district: '{{entity}} (district)', city: '{{entity}} (city)' },
    kpi: {
      energy_kwh: 'energy {{value}} kWh',
      eui_kwh_m2: 'EUI {{value}} kWh/m²',
      pue: 'PUE {{value}}',
      renewable_share: 'renewable {{value}}%',
      co2_t: 'CO2 {{value}} t',
    },
    report: 'Report of {{organisation}} for {{month}} (version {{version}}, completeness {{completeness}}%):',
    reportFigures:
      '  grid electricity {{gridKwh}} kWh, comprehensive energy {{tce}} tce, CO2 {{locationT}} t (location-based), {{marketT}} t (market-based)',
    reportFiles: '  {{pdf}} (and .json, .csv, .evidence.zip)',
    tryThese: 'Try, from this checkout while the demo runs:',
    tryManager:
      'a facility manager (building {{site}}): its KPIs of yesterday and its live stream; dashboards above',
    tryEmitter:
      'the emitter ({{organisation}}): its report of {{month}}, and what a verifier runs on its evidence',
    tryRegulator: "the regulator of {{district}}: the district's alerts and its KPIs of yesterday",
    alert:
      'ALERT {{state}} {{rule}} {{entity}} ({{severity}}, to the {{audience}}): {{value}} {{comparison}} {{threshold}} — {{title}}',
    noValue: 'no value',
    comparison: { above: 'above', below: 'below' },
    audience: { facility_manager: 'facility manager', regulator: 'regulator' },
    state: { firing: 'firing', resolved: 'resolved', escalated: 'escalated' },
    severity: { critical: 'critical', warning: 'warning', info: 'info' },
  },
  kpi: {
    badDate: '{{flag}} {{value}}: expected a date YYYY-MM-DD or an RFC 3339 time with its offset',
    badPeriod: '--period {{value}}: expected one of {{periods}}',
    notAfter: '--to {{to}} is not after --from {{from}}',
    unknownSite: 'unknown site {{site}}; the registry ({{dir}}) has {{sites}}',
    header: { windowStart: 'window start', kpi: 'kpi', value: 'value', completeness: 'completeness' },
    estimated: 'estimated',
  },
  report: {
    noOrg: 'give --org <id> (emitter.id in the registry)',
    onePeriod: 'give one of --month YYYY-MM or --year YYYY',
    badMonth: '--month {{value}}: expected YYYY-MM',
    badYear: '--year {{value}}: expected YYYY',
    kind: { monthly: 'monthly', annual: 'annual' },
    created: '{{kind}} report of {{organisation}} for {{period}}: version {{version}} (new)',
    corrects:
      '{{kind}} report of {{organisation}} for {{period}}: version {{version}} (corrects version {{corrects}})',
    unchanged: '{{kind}} report of {{organisation}} for {{period}}: version {{version}} (unchanged)',
    figures: '  completeness {{completeness}}%, energy {{tce}} tce, CO2 {{locationT}} t (location-based)',
    changed: '  changed: {{change}}',
  },
  verify: {
    unreadable: '{{path}}: cannot be read ({{code}})',
    bundle:
      'evidence bundle of {{organisation}} {{period}} version {{version}}: layout {{layout}}, made by PeakWatch {{madeBy}}, checked by PeakWatch {{checkedBy}}',
    notBundle: '{{path}}: not a PeakWatch evidence bundle',
    contentHash: 'report content hash {{hash}}',
    evidenceSha256: 'evidence sha256 {{hash}}',
    file: 'file   {{problem}}',
    figure: 'figure {{field}}: the report states {{stated}}, the evidence gives {{recomputed}}',
    match:
      'match: every file is the one the evidence hash covers, and every figure recomputes to what the report states',
    differs: 'DIFFERS: {{files}} file problem(s), {{figures}} figure(s)',
    cannotCheck: 'CANNOT CHECK',
    mismatch: 'the bundle does not match its report',
    unchecked: 'this version cannot check the bundle',
  },
  import: {
    noReason: '--reason <text> is required: why the readings are imported (recorded with the batch)',
    dryRun: 'dry run: nothing was written (--apply writes it)',
    restated: 'report {{organisation}} {{period}} restated: version {{version}}',
    written: 'written; the KPI windows are recomputed by the next KPI run',
    rolledBack:
      'import {{batch}} ({{file}}) rolled back: {{rows}} rows removed, {{replaced}} replaced readings restored',
    recomputed: 'the KPI windows are recomputed by the next KPI run',
    rows: '{{rows}} rows',
  },
  plan: {
    file: 'import of {{file}} ({{layout}}, SHA-256 {{sha256}})',
    rows: '  rows: {{read}} read, {{accepted}} accepted, {{refused}} refused; {{replaced}} stored readings would be replaced',
    refused: '  refused: row {{row}}, {{field}}: {{reason}}: {{detail}}',
    moreRefused: '  … and more: {{counts}} in all (a batch keeps every one: import rejections <batch>)',
    refusedCount: '{{rows}} {{reason}}',
    device: '  {{site}}/{{device}}: {{readings}} readings from {{from}} to {{to}}',
    deviceReplacing:
      '  {{site}}/{{device}}: {{readings}} readings from {{from}} to {{to}}, replacing {{replaced}}',
    windows:
      '  {{site}}: KPI windows recomputed: {{quarterHours}} quarter hours, {{hours}} hours, {{days}} days',
    window: '  {{site}} {{period}} {{label}}: {{kpis}}',
    windowKpi: '{{kpi}} {{before}} → {{after}} (stored now: {{stored}})',
    meter: '    {{device}} {{metric}}: {{before}} → {{after}} {{unit}}',
    meterAnomalies:
      '    {{device}} {{metric}}: {{before}} → {{after}} {{unit}} ({{anomalies}} deltas the register rules cannot explain)',
    report:
      '  report {{organisation}} {{period}}: version {{version}} would be restated if its figures change',
  },
  retention: {
    atAndApply: '--at previews a date: --apply does only what is due now',
    at: 'retention at {{at}}',
    dueDone: 'due: {{months}} meter months (done)',
    dueToDo: 'due: {{months}} meter months (--apply does them)',
    downsample: '  {{meter}} {{month}}: down-sampled',
    expire: '  {{meter}} {{month}}: snapshots removed',
    upcoming: 'within the warning: {{months}} meter months',
    upcomingDownsample: '  {{meter}} {{month}}: down-sampled on {{day}}',
    upcomingExpire: '  {{meter}} {{month}}: snapshots removed on {{day}}',
    kept: 'kept: {{months}} meter months',
    keptBecause: '  {{meter}} {{month}}: {{reasons}}',
    reasons: '; ',
  },
  apikey: {
    badRole: '--role {{value}}: expected one of {{roles}}',
    badScope: '--scope {{value}}: expected {{chars}}',
    adminScope: 'an admin key has no --scope',
    needsScope: 'a {{role}} key needs --scope',
    oneScope: 'a {{role}} key has one --scope (an organisation or a district)',
    created: 'API key {{id}} ({{role}}); shown once:',
    createdScoped: 'API key {{id}} ({{role}} of {{scope}}); shown once:',
    noKey: 'no active API key {{id}}',
    revoked: 'API key {{id}} revoked',
  },
  secret: {
    badId: '{{name}} {{value}}: expected {{chars}}',
    unknownDevice: 'no device {{device}} at site {{site}} in {{dir}}',
    device:
      'MQTT secret of {{site}}/{{device}} (username {{device}}); shown once, the old one no longer works:',
    service: 'MQTT secret of service client {{name}}; shown once:',
    ownName: "name {{value}}: names starting with peakwatch are PeakWatch's own",
    unknownDistrict: 'district {{district}}: no site of the registry is in it ({{districts}})',
    drOperator:
      'MQTT secret of grid operator {{name}} (district {{district}}, publishes on {{topic}}); shown once:',
    noWebhookSecret: 'ALERT_WEBHOOK_SECRET is not set: there is nothing to derive the key from',
    dynsecAccounts:
      "set MQTT_DYNSEC_USERNAME, MQTT_DYNSEC_PASSWORD (the broker's admin), MQTT_USERNAME and MQTT_PASSWORD (PeakWatch's own client)",
    exists: '{{file}} exists; left as it is',
    wrote: 'wrote {{file}}',
  },
  sim: {
    badQos: '--qos {{value}}: expected 0, 1 or 2',
    badSeed: '--seed {{value}}: expected an integer',
    badDevices: '--devices {{value}}: expected an integer 1..100000',
    badRate: '--rate {{value}}: expected readings per second > 0',
    badDuration: '--duration {{value}}: expected seconds > 0',
    badSpeed: '--speed {{value}}: expected a number > 0 or "max"',
    badTime: '{{flag}} {{value}}: expected a date (YYYY-MM-DD) or an RFC 3339 time with its offset',
    badBroker: '--broker {{value}}: expected a URL such as mqtt://127.0.0.1:1883',
    badCredentials: '--credentials {{file}}: expected a JSON object mapping device ids to secrets',
    unreadableCredentials: '--credentials {{file}}: {{problem}}',
    loadAndScenario: '--devices/--rate (load mode) and --scenario exclude each other',
    noScenario: '--scenario <file> is required (or --devices and --rate for load mode)',
    durationLoadOnly: '--duration applies to load mode only',
    toNeedsFrom: '--to needs --from',
    toBeforeFrom: '--to {{to}} is before --from {{from}}',
    fromFuture: '--from {{from}} is in the future',
  },
};

export type CliMessages = typeof en;

export const zhCN: CliMessages = {
  list: { items: '，', names: '、' },
  runningDemo: { influx: '未设置 INFLUX_URL：使用正在运行的演示的 InfluxDB，{{url}}' },
  demo: {
    notLoopback:
      '演示在本机回环地址上运行自己的 influxd；INFLUX_URL={{url}} 不是 http://127.0.0.1:<端口>。要连接已有的 InfluxDB，请运行 `peakwatch start`。',
    portInUse:
      '端口 {{port}} 已被占用，演示无法在此启动 influxd。请停止占用该端口的程序，或换一个端口：{{command}}',
    running: 'PeakWatch 演示正在运行。按 Ctrl-C 停止全部服务。',
    mqtt: '  MQTT 消息服务器  {{url}}（设备发布到 energy/v1/{siteId}/{deviceId}/telemetry）',
    http: '  HTTP 接口        {{health}}  {{api}}',
    influx: '  InfluxDB         {{url}}，数据库“{{database}}”',
    simulator:
      '  模拟器           {{scenario}}：自 {{since}} 起的历史数据，随后实时运行（真实值：{{truth}}）',
    dashboards: '  仪表板           {{command}}，然后打开 {{url}}',
    data: '  数据目录         {{dir}}',
    kpis: '{{day}}（{{zone}}）的指标，根据读数计算（更多：见下方命令）：',
    kpiLine: '  {{entity}} {{kpis}}；数据完整率 {{completeness}}%',
    entityOf: { district: '{{entity}}（辖区）', city: '{{entity}}（全市）' },
    kpi: {
      energy_kwh: '能耗 {{value}} kWh',
      eui_kwh_m2: '单位建筑面积能耗 {{value}} kWh/m²',
      pue: '电能利用效率（PUE）{{value}}',
      renewable_share: '可再生能源比重 {{value}}%',
      co2_t: '碳排放 {{value}} t CO2',
    },
    report: '{{organisation}} {{month}} 的报告（第 {{version}} 版，数据完整率 {{completeness}}%）：',
    reportFigures:
      '  电网电力 {{gridKwh}} kWh，综合能耗 {{tce}} 吨标准煤，碳排放 {{locationT}} t CO2（基于位置），{{marketT}} t CO2（基于市场）',
    reportFiles: '  {{pdf}}（另有 .json、.csv、.evidence.zip）',
    tryThese: '演示运行期间，可在本检出目录中尝试：',
    tryManager: '设施管理者（楼宇 {{site}}）：昨日的指标和实时数据流；仪表板见上方',
    tryEmitter: '重点碳排放单位（{{organisation}}）：{{month}} 的报告，以及核查方依据其证据包运行的校验',
    tryRegulator: '{{district}} 的监管部门：辖区的告警和昨日的指标',
    alert:
      '[告警] {{state}}：规则 {{rule}}，对象 {{entity}}（{{severity}}，通知{{audience}}）：{{value}} {{comparison}} {{threshold}} — {{title}}',
    noValue: '无数值',
    comparison: { above: '高于', below: '低于' },
    audience: { facility_manager: '设施管理者', regulator: '监管部门' },
    state: { firing: '告警', resolved: '已恢复', escalated: '已升级' },
    severity: { critical: '严重', warning: '警告', info: '提示' },
  },
  kpi: {
    badDate: '{{flag}} {{value}}：应为日期 YYYY-MM-DD，或带时区偏移的 RFC 3339 时间',
    badPeriod: '--period {{value}}：应为 {{periods}} 之一',
    notAfter: '--to {{to}} 不晚于 --from {{from}}',
    unknownSite: '没有站点 {{site}}；站点登记（{{dir}}）中有 {{sites}}',
    header: { windowStart: '窗口开始', kpi: '指标', value: '数值', completeness: '数据完整率' },
    estimated: '估算',
  },
  report: {
    noOrg: '请给出 --org <id>（站点登记中的 emitter.id）',
    onePeriod: '请给出 --month YYYY-MM 或 --year YYYY 之一',
    badMonth: '--month {{value}}：应为 YYYY-MM',
    badYear: '--year {{value}}：应为 YYYY',
    kind: { monthly: '月度', annual: '年度' },
    created: '{{organisation}} {{period}} 的{{kind}}报告：第 {{version}} 版（新）',
    corrects: '{{organisation}} {{period}} 的{{kind}}报告：第 {{version}} 版（更正第 {{corrects}} 版）',
    unchanged: '{{organisation}} {{period}} 的{{kind}}报告：第 {{version}} 版（未变化）',
    figures:
      '  数据完整率 {{completeness}}%，综合能耗 {{tce}} 吨标准煤，碳排放 {{locationT}} t CO2（基于位置）',
    changed: '  变化：{{change}}',
  },
  verify: {
    unreadable: '{{path}}：无法读取（{{code}}）',
    bundle:
      '{{organisation}} {{period}} 第 {{version}} 版的证据包：格式 {{layout}}，由 PeakWatch {{madeBy}} 生成，由 PeakWatch {{checkedBy}} 校验',
    notBundle: '{{path}}：不是 PeakWatch 证据包',
    contentHash: '报告内容哈希 {{hash}}',
    evidenceSha256: '证据包 SHA-256 {{hash}}',
    file: '文件   {{problem}}',
    figure: '数字 {{field}}：报告载明 {{stated}}，依据证据算得 {{recomputed}}',
    match: '一致：每个文件都与证据哈希所涵盖的一致，每个数字重新计算后都与报告载明的相同',
    differs: '不一致：文件问题 {{files}} 项，数字 {{figures}} 项',
    cannotCheck: '无法校验',
    mismatch: '证据包与其报告不一致',
    unchecked: '此版本无法校验该证据包',
  },
  import: {
    noReason: '必须给出 --reason <text>：导入这些读数的原因（随导入批次记录）',
    dryRun: '试运行：未写入任何数据（--apply 才会写入）',
    restated: '报告 {{organisation}} {{period}} 已重述：第 {{version}} 版',
    written: '已写入；下一次指标计算将重新计算相关指标窗口',
    rolledBack: '导入批次 {{batch}}（{{file}}）已回滚：删除 {{rows}} 行，恢复被替换的读数 {{replaced}} 条',
    recomputed: '下一次指标计算将重新计算相关指标窗口',
    rows: '{{rows}} 行',
  },
  plan: {
    file: '导入 {{file}}（{{layout}}，SHA-256 {{sha256}}）',
    rows: '  行：读取 {{read}}，接受 {{accepted}}，拒绝 {{refused}}；将替换已存储的读数 {{replaced}} 条',
    refused: '  拒绝：第 {{row}} 行，{{field}}：{{reason}}：{{detail}}',
    moreRefused: '  …… 其余：共 {{counts}}（导入批次保留全部被拒绝的行：import rejections <batch>）',
    refusedCount: '{{reason}} {{rows}} 行',
    device: '  {{site}}/{{device}}：读数 {{readings}} 条，自 {{from}} 至 {{to}}',
    deviceReplacing:
      '  {{site}}/{{device}}：读数 {{readings}} 条，自 {{from}} 至 {{to}}，替换 {{replaced}} 条',
    windows: '  {{site}}：重新计算的指标窗口：{{quarterHours}} 个 15 分钟，{{hours}} 个小时，{{days}} 天',
    window: '  {{site}} {{period}} {{label}}：{{kpis}}',
    windowKpi: '{{kpi}} {{before}} → {{after}}（当前存储：{{stored}}）',
    meter: '    {{device}} {{metric}}：{{before}} → {{after}} {{unit}}',
    meterAnomalies:
      '    {{device}} {{metric}}：{{before}} → {{after}} {{unit}}（{{anomalies}} 个增量无法用表计规则解释）',
    report: '  报告 {{organisation}} {{period}}：若数字变化，第 {{version}} 版将被重述',
  },
  retention: {
    atAndApply: '--at 只预览某一日期：--apply 只执行当前到期的处理',
    at: '{{at}} 的数据保留',
    dueDone: '到期：{{months}} 个表计月（已执行）',
    dueToDo: '到期：{{months}} 个表计月（--apply 执行）',
    downsample: '  {{meter}} {{month}}：已降采样',
    expire: '  {{meter}} {{month}}：已删除快照',
    upcoming: '预警期内：{{months}} 个表计月',
    upcomingDownsample: '  {{meter}} {{month}}：将于 {{day}} 降采样',
    upcomingExpire: '  {{meter}} {{month}}：将于 {{day}} 删除快照',
    kept: '保留：{{months}} 个表计月',
    keptBecause: '  {{meter}} {{month}}：{{reasons}}',
    reasons: '；',
  },
  apikey: {
    badRole: '--role {{value}}：应为 {{roles}} 之一',
    badScope: '--scope {{value}}：应为 {{chars}}',
    adminScope: '管理员（admin）密钥没有 --scope',
    needsScope: '{{role}} 角色的密钥需要 --scope',
    oneScope: '{{role}} 角色的密钥只有一个 --scope（一个单位或一个辖区）',
    created: 'API 密钥 {{id}}（{{role}}）；仅显示这一次：',
    createdScoped: 'API 密钥 {{id}}（{{role}}，范围 {{scope}}）；仅显示这一次：',
    noKey: '没有有效的 API 密钥 {{id}}',
    revoked: 'API 密钥 {{id}} 已吊销',
  },
  secret: {
    badId: '{{name}} {{value}}：应为 {{chars}}',
    unknownDevice: '{{dir}} 中站点 {{site}} 没有设备 {{device}}',
    device: '{{site}}/{{device}} 的 MQTT 密钥（用户名 {{device}}）；仅显示这一次，旧密钥已失效：',
    service: '服务客户端 {{name}} 的 MQTT 密钥；仅显示这一次：',
    ownName: '名称 {{value}}：以 peakwatch 开头的名称为 PeakWatch 自用',
    unknownDistrict: '辖区 {{district}}：站点登记中没有位于该辖区的站点（{{districts}}）',
    drOperator: '电网运营方 {{name}}（辖区 {{district}}，发布到 {{topic}}）的 MQTT 密钥；仅显示这一次：',
    noWebhookSecret: '未设置 ALERT_WEBHOOK_SECRET：无法据以派生密钥',
    dynsecAccounts:
      '请设置 MQTT_DYNSEC_USERNAME、MQTT_DYNSEC_PASSWORD（消息服务器管理员）、MQTT_USERNAME 和 MQTT_PASSWORD（PeakWatch 自己的客户端）',
    exists: '{{file}} 已存在；保持不变',
    wrote: '已写入 {{file}}',
  },
  sim: {
    badQos: '--qos {{value}}：应为 0、1 或 2',
    badSeed: '--seed {{value}}：应为整数',
    badDevices: '--devices {{value}}：应为 1 至 100000 的整数',
    badRate: '--rate {{value}}：应为大于 0 的每秒读数',
    badDuration: '--duration {{value}}：应为大于 0 的秒数',
    badSpeed: '--speed {{value}}：应为大于 0 的数，或 "max"',
    badTime: '{{flag}} {{value}}：应为日期（YYYY-MM-DD），或带时区偏移的 RFC 3339 时间',
    badBroker: '--broker {{value}}：应为 URL，例如 mqtt://127.0.0.1:1883',
    badCredentials: '--credentials {{file}}：应为将设备 id 映射到密钥的 JSON 对象',
    unreadableCredentials: '--credentials {{file}}：{{problem}}',
    loadAndScenario: '--devices/--rate（负载模式）与 --scenario 不能同时使用',
    noScenario: '必须给出 --scenario <file>（或负载模式的 --devices 和 --rate）',
    durationLoadOnly: '--duration 仅适用于负载模式',
    toNeedsFrom: '--to 需要 --from',
    toBeforeFrom: '--to {{to}} 早于 --from {{from}}',
    fromFuture: '--from {{from}} 在未来',
  },
};
