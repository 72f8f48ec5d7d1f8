// The console's words in 中文 and English. `?lang=en` selects English; anything else, Chinese.
// Names from the catalog (scenarios, categories, places) come with both names and are picked
// with `name()`.

const STRINGS = {
  zh: {
    title: "equipmatch 控制台", nav_dispatch: "调度", nav_procurement: "采购", nav_drills: "演练", nav_holds: "预留",
    language: "语言", token: "访问令牌", token_hint: "开启鉴权时粘贴 Bearer 令牌", caller: "操作人",
    loading: "加载中…", error: "出错", field_error: "字段错误", offline_note: "所有数据来自本机服务；示例供应商为合成数据。",
    map_credit: "省界：DCW-GMT（LGPL-3.0+），经简化",
    scenario: "场景", severity: "响应级别", place: "地点", latitude: "纬度", longitude: "经度",
    affected_population: "受影响人口", area: "受影响面积 (km²)", options: "每项候选数", match: "匹配",
    click_map: "也可在地图上点击选择位置", stages: "链条三环节", coverage: "覆盖率", required: "需求", planned: "计划",
    shortfall: "缺口", within: "时限", priority: "优先级", plan: "调配方案", options_ranked: "候选供应商（排序）",
    score_parts: "评分构成", hold_plan: "预留此方案", hold_id: "预留编号", incident_ref: "事件编号", ttl: "有效期 (秒)",
    hold_placed: "已预留", unheld: "件来自尚未生产的增产，不能预留（预留只锁定现有库存）", rank: "名次", supplier: "供应商", stock: "库存", production: "增产", distance: "距离 km", eta: "到达 h", score: "评分",
    on_time: "按时", late: "迟到",
    category: "类别", categories_selected: "已选类别", add_category: "添加类别", quantity: "数量", zones: "区域等级", places_filter: "地点",
    max_lead: "最长交货期 (h)", min_reliability: "最低可靠性", window: "交付时限 (h)", count: "条数", shortlist: "生成短名单",
    download_csv: "下载 CSV", zone: "区域", base: "示范基地", reliability: "可靠性", lead_time: "交货期 h", available: "可供",
    drill: "演练", sample: "示例演练", upload: "上传演练文件", policy: "策略", run: "运行", progress: "进度", report: "报告",
    incidents: "事件", add_incident: "添加事件", remove: "删除", what_if: "假设条件", stock_factor: "库存倍数", road_factor: "道路耗时倍数",
    random_offline: "随机停供比例", places_offline: "停供地点", zones_offline: "停供区域", suppliers_offline: "停供供应商",
    start_hours: "开始 (h)", id: "编号", runs: "运行记录", compare: "对比", compare_a: "运行 A", compare_b: "运行 B",
    coverage_over_time: "覆盖率随时间", units_required: "需求量", units_on_time: "按时", units_late: "迟到", units_unmet: "未满足",
    shortfalls: "缺口类别", spof: "单点故障", difference: "差值", efficiency: "效率优先", equity: "公平优先", file_policy: "按文件",
    list_by: "查询方式", incident_or_supplier: "事件 / 供应商", list: "查询", confirm: "确认", release: "释放", history: "历史",
    state: "状态", lines: "明细", placed_by: "预留人", expires: "到期 / 结束", refresh: "刷新", no_holds: "没有预留",
    incident: "事件", supplier_kind: "供应商", map: "地图", legend_incident: "事件", legend_supplier: "供应商",
    legend_base: "示范基地", legend_city: "区域城市", legend_flow: "调运", csv_ready: "CSV 已生成",
    sort_hint: "点击表头排序", none: "无", all: "全部",
    stage: "环节", flows_outside: "条调运来自地图范围以外", supplier_name: "名称", PRIORITY_CRITICAL: "关键", PRIORITY_IMPORTANT: "重要", PRIORITY_SUPPORTING: "辅助", core: "核心区", key: "重点区", support: "支撑区", metro: "京津腹地", outside: "区外",
  },
  en: {
    title: "equipmatch console", nav_dispatch: "Dispatch", nav_procurement: "Procurement", nav_drills: "Drills", nav_holds: "Holds",
    language: "Language", token: "Access token", token_hint: "paste a bearer token when auth is on", caller: "Operator",
    loading: "Loading…", error: "Error", field_error: "Field error", offline_note: "Everything comes from this machine's server; sample suppliers are SYNTHETIC.",
    map_credit: "Province outlines: DCW-GMT (LGPL-3.0+), simplified",
    scenario: "Scenario", severity: "Severity", place: "Place", latitude: "Latitude", longitude: "Longitude",
    affected_population: "Affected population", area: "Area (km²)", options: "Options per requirement", match: "Match",
    click_map: "or click the map to set the position", stages: "The chain's three stages", coverage: "coverage", required: "required", planned: "planned",
    shortfall: "shortfall", within: "within", priority: "priority", plan: "Plan", options_ranked: "Ranked options",
    score_parts: "Score parts", hold_plan: "Hold this plan", hold_id: "Hold id", incident_ref: "Incident reference", ttl: "Time to live (s)",
    hold_placed: "Hold placed", unheld: "planned units come from surge production not yet made: a hold reserves stock on hand only", rank: "#", supplier: "Supplier", stock: "Stock", production: "Production", distance: "km", eta: "ETA h", score: "Score",
    on_time: "on time", late: "late",
    category: "Category", categories_selected: "Categories", add_category: "Add category", quantity: "Quantity", zones: "Zone tiers", places_filter: "Places",
    max_lead: "Max lead time (h)", min_reliability: "Min reliability", window: "Needed within (h)", count: "Entries", shortlist: "Shortlist",
    download_csv: "Download CSV", zone: "Zone", base: "Demonstration base", reliability: "Reliability", lead_time: "Lead h", available: "Available",
    drill: "Drill", sample: "Sample drill", upload: "Upload a drill file", policy: "Policy", run: "Run", progress: "Progress", report: "Report",
    incidents: "Incidents", add_incident: "Add incident", remove: "Remove", what_if: "What-if", stock_factor: "Stock factor", road_factor: "Road time factor",
    random_offline: "Random offline share", places_offline: "Places offline", zones_offline: "Zones offline", suppliers_offline: "Suppliers offline",
    start_hours: "Start (h)", id: "Id", runs: "Runs", compare: "Compare", compare_a: "Run A", compare_b: "Run B",
    coverage_over_time: "Coverage over time", units_required: "required", units_on_time: "on time", units_late: "late", units_unmet: "unmet",
    shortfalls: "Shortfalls by category", spof: "Single points of failure", difference: "difference", efficiency: "efficiency", equity: "equity", file_policy: "as in the file",
    list_by: "List by", incident_or_supplier: "Incident / Supplier", list: "List holds", confirm: "Confirm", release: "Release", history: "History",
    state: "State", lines: "Lines", placed_by: "Placed by", expires: "Expires / resolved", refresh: "Refresh", no_holds: "No holds",
    incident: "Incident", supplier_kind: "Supplier", map: "Map", legend_incident: "incident", legend_supplier: "supplier",
    legend_base: "demonstration base", legend_city: "zone city", legend_flow: "flow", csv_ready: "CSV ready",
    sort_hint: "click a column header to sort", none: "none", all: "all",
    stage: "Stage", flows_outside: "flows from beyond the frame", supplier_name: "Name", PRIORITY_CRITICAL: "critical", PRIORITY_IMPORTANT: "important", PRIORITY_SUPPORTING: "supporting", core: "core", key: "key", support: "support", metro: "metro", outside: "outside",
  },
};

/** Chain stages in order, with both names (the proto enum names and the drill report's keys). */
export const STAGES = [
  { proto: "CHAIN_STAGE_MONITORING_WARNING", key: "monitoring_warning", zh: "监测预警", en: "Monitoring & early warning" },
  { proto: "CHAIN_STAGE_SAFETY_PROTECTION", key: "safety_protection", zh: "安全防护", en: "Safety protection" },
  { proto: "CHAIN_STAGE_EMERGENCY_RESCUE", key: "emergency_rescue", zh: "应急救援", en: "Emergency rescue" },
];

export const SEVERITIES = [
  { proto: "SEVERITY_I", roman: "I", zh: "I 特别重大", en: "I (extraordinary)" },
  { proto: "SEVERITY_II", roman: "II", zh: "II 重大", en: "II (major)" },
  { proto: "SEVERITY_III", roman: "III", zh: "III 较大", en: "III (larger)" },
  { proto: "SEVERITY_IV", roman: "IV", zh: "IV 一般", en: "IV (general)" },
];

/** The zone tier key of a ZoneTier enum name: ZONE_TIER_CORE → core. */
export function zoneKey(protoName) {
  return protoName.replace(/^ZONE_TIER_/, "").toLowerCase();
}

export const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";

/** The word for `key` in the current language. */
export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

/** The catalog name of a thing with name_zh / name_en. */
export function name(thing) {
  if (!thing) return "";
  return (lang === "en" ? thing.name_en : thing.name_zh) || thing.name_en || thing.id;
}

/** A link to another page that keeps the language. */
export function href(page) {
  return lang === "en" ? `/${page}?lang=en` : `/${page}`;
}

/** A zone tier's name from its enum name or key; a tier this page has no word for shows its key. */
export function zoneName(protoOrKey) {
  return t(zoneKey(protoOrKey));
}

export function stageName(protoOrKey) {
  const stage = STAGES.find((s) => s.proto === protoOrKey || s.key === protoOrKey);
  return stage ? stage[lang] : protoOrKey;
}

export const STRING_TABLES = STRINGS;
