//! The standing resources the generator writes beside its synthetic manufacturers: government
//! reserve depots, the fire and rescue corps and professional rescue teams of the region.
//!
//! Where a holder's existence, name and town are public they are used and the source is named
//! here; its **stock is always SYNTHETIC** (no depot or team publishes an inventory), sized by
//! the model assumptions below and, where one exists, a public figure of what it sent to a
//! past disaster (a floor). Holders without a public source are named "SYNTHETIC …". A
//! holder's point is its town's or its place's coordinates: no exact site is public, so the
//! point says which city it answers from, nothing more.
//!
//! Stock numbers are MODEL unless a line says otherwise: a standing holder keeps equipment for
//! emergencies, does not make more (surge 0), and leaves fast. Lead times: fire and rescue 0.1 h
//! (turn-out only: stations are sized so the crew reaches the edge of its district 5 min after
//! dispatch, [CSS-152], scenarios/README.md; the drive is counted separately as travel),
//! professional teams 1–2 h to load their kit, reserve depots 6 h for the dispatch order and
//! loading (both MODEL). Lead times are fractional hours, as the registry column allows. Crews
//! per unit are the people who travel with the unit (vehicle crews MODEL; team kits carry their
//! team: municipal earthquake team ≥ 45, INSARAG heavy 59, medium 40, domain-facts §3).

use crate::domain::HolderKind;

/// Units of one category a holder keeps, and the crew that comes with each.
#[derive(Debug, Clone, Copy)]
pub struct Holding {
    pub category: &'static str,
    pub units: u32,
    pub crew_per_unit: u32,
}

const fn h(category: &'static str, units: u32, crew_per_unit: u32) -> Holding {
    Holding { category, units, crew_per_unit }
}

/// One standing holder: who, where, what it keeps, and where that comes from.
#[derive(Debug, Clone, Copy)]
pub struct StandingHolder {
    /// Supplier id (`dep-…`, `fire-…`, `team-…`), unique.
    pub id: &'static str,
    pub kind: HolderKind,
    /// The name as written in `suppliers.csv`: a real name with "real …, SYNTHETIC stock", or
    /// "SYNTHETIC …".
    pub name: &'static str,
    /// A place of `places.toml`.
    pub place: &'static str,
    /// The holder's town when it is not the place's point (sourced town, GK coordinates).
    pub at: Option<(f64, f64)>,
    pub lead_time_hours: f64,
    /// Multiplies every holding of `holdings` (templates shared by several holders).
    pub scale: f64,
    pub holdings: &'static [Holding],
    /// Where the holder's existence (and any figure) comes from.
    pub source: &'static str,
}

/// What a city's fire and rescue detachment (消防救援支队) keeps, at scale 1 (MODEL: a
/// detachment of about five class-1 stations, 建标152-2017's 5–7 bays each; chemical suits 6 per
/// class-1 station, [CSS-EQUIP]; one municipal earthquake rescue team of 45 per city, the
/// Sichuan standard of domain-facts §2.1). Vehicle crews: pumper 6, foam truck 5, others 3
/// (MODEL).
const FIRE_DETACHMENT: &[Holding] = &[
    h("urban-fire-engine-pumper", 24, 6),
    h("foam-fire-truck", 5, 5),
    h("aerial-ladder-truck", 3, 3),
    h("water-tender", 5, 3),
    h("smoke-exhaust-vehicle", 2, 3),
    h("emergency-command-vehicle", 1, 4),
    h("remote-water-supply-system", 1, 6),
    h("large-flow-fire-monitor", 6, 0),
    h("firefighting-robot", 2, 1),
    h("fire-recon-robot-ex-proof", 1, 1),
    h("firefighter-turnout-gear", 300, 0),
    h("scba", 240, 0),
    h("rescuer-ppe-kit", 120, 0),
    h("chemical-protective-suit-gas-tight", 30, 0),
    h("chemical-protective-suit-level-b", 40, 0),
    h("decontamination-tent-system", 1, 2),
    h("hazchem-gas-detector-portable", 10, 0),
    h("hydraulic-rescue-tool-set", 16, 0),
    h("lifting-airbag-set", 6, 0),
    h("concrete-cutting-saw", 8, 0),
    h("life-detector-radar-uwb", 2, 0),
    h("life-detector-audio-vibration", 4, 0),
    h("life-detector-video-snake-eye", 4, 0),
    h("handheld-thermal-imager", 16, 0),
    h("municipal-earthquake-rescue-team-kit", 1, 45),
    h("search-dog-team", 4, 1),
    h("assault-boat", 8, 3),
    h("inflatable-rescue-boat", 10, 2),
    h("life-jacket", 240, 0),
    h("water-rescue-drysuit-kit", 50, 0),
    h("line-throwing-device", 16, 0),
    h("drainage-pump-portable", 8, 2),
    h("mobile-lighting-tower", 4, 1),
    h("mesh-radio-kit", 8, 0),
    h("portable-satellite-terminal", 2, 0),
    h("descent-control-device", 20, 0),
    h("smoke-escape-respirator", 200, 0),
];

/// What a municipal emergency reserve depot keeps (MODEL, at scale 1).
const MUNICIPAL_DEPOT: &[Holding] = &[
    h("relief-tent-family", 1_000, 0),
    h("relief-bedding-set", 5_000, 0),
    h("household-emergency-kit", 2_000, 0),
    h("life-jacket", 1_000, 0),
    h("ton-bag", 2_000, 0),
    h("gabion", 1_000, 0),
    h("drainage-pump-portable", 20, 0),
    h("portable-generator", 20, 0),
    h("mobile-lighting-tower", 4, 0),
    h("water-purification-unit-portable", 4, 0),
    h("mobile-toilet-unit", 20, 0),
    h("household-fire-extinguisher", 1_000, 0),
];

/// What a central relief depot (中央救灾物资储备库) keeps: tents and bedding, the goods of the
/// published central issues (MODEL sizes; for scale, the central issue to Jishishan 2023 was
/// 2,500 cotton tents and 10,000 quilts, [JISHISHAN-2023], and 29 national depots sent 89,000
/// relief items to the 2023 Haihe flood, National Food and Strategic Reserves Administration,
/// 2023-08-10, http://matteomurro.com/2023/0810/456689.html repost).
const CENTRAL_RELIEF_DEPOT: &[Holding] =
    &[h("relief-tent-family", 15_000, 0), h("relief-bedding-set", 60_000, 0)];

/// What a forest-fire professional team keeps (MODEL, at scale 1; kit per person for a
/// 60-person team).
const FOREST_FIRE_TEAM: &[Holding] = &[
    h("forest-firefighter-ppe-kit", 60, 0),
    h("wind-fire-extinguisher", 30, 0),
    h("water-mist-extinguisher-backpack", 30, 0),
    h("forest-fire-hand-tool-kit", 40, 0),
    h("forest-chainsaw", 6, 0),
    h("brush-cutter", 6, 0),
    h("drip-torch", 6, 0),
    h("forest-fire-pump-high-pressure", 6, 2),
    h("forest-fire-engine-4x4", 3, 5),
    h("troop-carrier", 3, 1),
    h("beidou-personal-terminal", 20, 0),
    h("uav-multirotor-eo-ir", 2, 2),
    h("portable-weather-station", 1, 0),
];

const FIRE: HolderKind = HolderKind::FireRescue;
const DEPOT: HolderKind = HolderKind::ReserveDepot;
const TEAM: HolderKind = HolderKind::ProfessionalTeam;

/// Every standing holder the generator writes, in output order.
pub const STANDING_HOLDERS: &[StandingHolder] = &[
    // ---------------------------------------------------------------- reserve depots
    StandingHolder {
        id: "dep-central-relief-beijing",
        kind: DEPOT,
        name: "Central disaster-relief reserve depot Beijing (中央救灾物资储备库; real depot, SYNTHETIC stock, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 6.0,
        scale: 1.0,
        holdings: CENTRAL_RELIEF_DEPOT,
        source: "MCA runs 19 central relief depots incl. Beijing and Tianjin (nine-ministry guidance on relief reserves, 2015, https://rajayuj.com/bmpd/jmsgxhzls/wnfwzhxx/content/post_478310.html repost; B)",
    },
    StandingHolder {
        id: "dep-central-relief-tianjin",
        kind: DEPOT,
        name: "Central disaster-relief reserve depot Tianjin (中央救灾物资储备库; real depot, SYNTHETIC stock, city point)",
        place: "tianjin",
        at: None,
        lead_time_hours: 6.0,
        scale: 1.0,
        holdings: CENTRAL_RELIEF_DEPOT,
        source: "as dep-central-relief-beijing (B)",
    },
    StandingHolder {
        id: "dep-central-flood-beijing",
        kind: DEPOT,
        name: "Central flood-control and drought-relief material depot Beijing (中央防汛抗旱物资北京仓库; real depot, SYNTHETIC stock, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 6.0,
        scale: 1.0,
        holdings: &[
            h("assault-boat", 40, 0),
            h("inflatable-rescue-boat", 40, 0),
            h("life-jacket", 5_000, 0),
            h("gabion", 20_000, 0),
            h("mobile-lighting-tower", 50, 0),
            h("drainage-pump-portable", 100, 0),
            h("ton-bag", 10_000, 0),
        ],
        source: "the State Flood Control HQ sent assault boats, woven bags, gabion nets and portable piling machines from its Beijing depot in 2012 (CNS 2012-07-25, http://cncmrn.com/channels/news/20120725/1209706.html repost; B); 100 portable floodlight sets went from a central depot to Tianjin in 2023 (CNS, http://m.yktchina.com/zx/2023/0807/83290.html repost; B)",
    },
    StandingHolder {
        id: "dep-hebei-provincial-relief",
        kind: DEPOT,
        name: "Hebei provincial grain and relief reserve centre (河北省粮食和救灾物资储备中心; real centre, SYNTHETIC stock, city point)",
        place: "shijiazhuang",
        at: None,
        lead_time_hours: 6.0,
        scale: 1.0,
        holdings: &[
            h("relief-tent-family", 8_000, 0),
            h("relief-bedding-set", 60_000, 0),
            h("household-emergency-kit", 10_000, 0),
            h("mobile-lighting-tower", 20, 0),
        ],
        source: "it sent 134,233 provincial relief items (folding beds, blankets, lamps, boots) to six cities in five days of the 2023 flood (Hebei Daily 2023-08-09, http://hamasdt.com/cn/Instant/local/202308/t20230809_7464480.html repost; B): the stock here is at least that",
    },
    StandingHolder {
        id: "dep-redcross-beijing",
        kind: DEPOT,
        name: "Red Cross Society of China national relief depot Niulanshan Shunyi (中国红十字会总会备灾救灾物资库; real depot, SYNTHETIC stock)",
        place: "beijing",
        at: Some((40.216, 116.664)),
        lead_time_hours: 6.0,
        scale: 1.0,
        holdings: &[
            h("relief-tent-family", 5_000, 0),
            h("relief-bedding-set", 20_000, 0),
            h("household-emergency-kit", 10_000, 0),
            h("water-purification-unit-portable", 20, 0),
        ],
        source: "ground broken at Niulanshan, Shunyi, 2007-12-09 as the Red Cross's national relief distribution centre (Sina 2007-12-10, http://finance.sina.com.cn/roll/20071210/02461845918.shtml; B); town coordinates GK",
    },
    StandingHolder {
        id: "dep-zhuozhou-municipal",
        kind: DEPOT,
        name: "Zhuozhou emergency management bureau reserve depot (涿州市应急物资储备库; real depot, SYNTHETIC stock)",
        place: "baoding",
        at: Some((39.485, 115.974)),
        lead_time_hours: 6.0,
        scale: 0.5,
        holdings: MUNICIPAL_DEPOT,
        source: "CCTV reported from the Zhuozhou emergency management bureau's reserve depot receiving provincial relief (3,410 folding beds, 4,679 bedding sets), 2023-08-08 (http://m.cnbzol.com/www_news/qy/2023/0808/1958474.html repost; B); town coordinates GK",
    },
    StandingHolder { id: "dep-shijiazhuang-municipal", kind: DEPOT, name: "SYNTHETIC Shijiazhuang municipal emergency reserve depot", place: "shijiazhuang", at: None, lead_time_hours: 6.0, scale: 1.5, holdings: MUNICIPAL_DEPOT, source: "MODEL: every city keeps a municipal reserve (the four-level central–province–city–county system, nine-ministry guidance 2015; B); contents synthetic" },
    StandingHolder { id: "dep-tangshan-municipal", kind: DEPOT, name: "SYNTHETIC Tangshan municipal emergency reserve depot", place: "tangshan", at: None, lead_time_hours: 6.0, scale: 1.5, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-baoding-municipal", kind: DEPOT, name: "SYNTHETIC Baoding municipal emergency reserve depot", place: "baoding", at: None, lead_time_hours: 6.0, scale: 1.5, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-handan-municipal", kind: DEPOT, name: "SYNTHETIC Handan municipal emergency reserve depot", place: "handan", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-xingtai-municipal", kind: DEPOT, name: "SYNTHETIC Xingtai municipal emergency reserve depot", place: "xingtai", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-zhangjiakou-municipal", kind: DEPOT, name: "SYNTHETIC Zhangjiakou municipal emergency reserve depot", place: "zhangjiakou", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-qinhuangdao-municipal", kind: DEPOT, name: "SYNTHETIC Qinhuangdao municipal emergency reserve depot", place: "qinhuangdao", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-langfang-municipal", kind: DEPOT, name: "SYNTHETIC Langfang municipal emergency reserve depot", place: "langfang", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-xiongan-municipal", kind: DEPOT, name: "SYNTHETIC Xiong'an emergency reserve depot", place: "xiongan", at: None, lead_time_hours: 6.0, scale: 1.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-beijing-municipal", kind: DEPOT, name: "SYNTHETIC Beijing municipal emergency reserve depot", place: "beijing", at: None, lead_time_hours: 6.0, scale: 3.0, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    StandingHolder { id: "dep-tianjin-municipal", kind: DEPOT, name: "SYNTHETIC Tianjin municipal emergency reserve depot", place: "tianjin", at: None, lead_time_hours: 6.0, scale: 2.5, holdings: MUNICIPAL_DEPOT, source: "MODEL, as dep-shijiazhuang-municipal" },
    // ---------------------------------------------------------------- fire and rescue
    StandingHolder { id: "fire-shijiazhuang", kind: FIRE, name: "Shijiazhuang fire and rescue detachment (石家庄市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "shijiazhuang", at: None, lead_time_hours: 0.1, scale: 1.5, holdings: FIRE_DETACHMENT, source: "GK: since the 2018 reform every prefecture city has a fire and rescue detachment under its provincial corps; contents MODEL" },
    StandingHolder { id: "fire-tangshan", kind: FIRE, name: "Tangshan fire and rescue detachment (唐山市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "tangshan", at: None, lead_time_hours: 0.1, scale: 1.5, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-baoding", kind: FIRE, name: "Baoding fire and rescue detachment (保定市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "baoding", at: None, lead_time_hours: 0.1, scale: 1.5, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-handan", kind: FIRE, name: "Handan fire and rescue detachment (邯郸市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "handan", at: None, lead_time_hours: 0.1, scale: 1.0, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-xingtai", kind: FIRE, name: "Xingtai fire and rescue detachment (邢台市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "xingtai", at: None, lead_time_hours: 0.1, scale: 1.0, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-zhangjiakou", kind: FIRE, name: "Zhangjiakou fire and rescue detachment (张家口市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "zhangjiakou", at: None, lead_time_hours: 0.1, scale: 1.0, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-qinhuangdao", kind: FIRE, name: "Qinhuangdao fire and rescue detachment (秦皇岛市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "qinhuangdao", at: None, lead_time_hours: 0.1, scale: 1.0, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-langfang", kind: FIRE, name: "Langfang fire and rescue detachment (廊坊市消防救援支队; real unit, SYNTHETIC stock, city point)", place: "langfang", at: None, lead_time_hours: 0.1, scale: 1.0, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-xiongan", kind: FIRE, name: "Xiong'an fire and rescue detachment (雄安新区消防救援支队; real unit, SYNTHETIC stock, city point)", place: "xiongan", at: None, lead_time_hours: 0.1, scale: 0.7, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    StandingHolder { id: "fire-beijing", kind: FIRE, name: "Beijing fire and rescue corps (北京市消防救援总队; real unit, SYNTHETIC stock, city point)", place: "beijing", at: None, lead_time_hours: 0.1, scale: 4.0, holdings: FIRE_DETACHMENT, source: "GK: the Beijing corps; contents MODEL (scale 4 for a city of 21 million)" },
    StandingHolder { id: "fire-tianjin", kind: FIRE, name: "Tianjin fire and rescue corps (天津市消防救援总队; real unit, SYNTHETIC stock, city point)", place: "tianjin", at: None, lead_time_hours: 0.1, scale: 2.5, holdings: FIRE_DETACHMENT, source: "GK: the Tianjin corps (city districts); contents MODEL" },
    StandingHolder { id: "fire-tianjin-binhai", kind: FIRE, name: "Tianjin Binhai New Area fire and rescue detachment (滨海新区消防救援支队; real unit, SYNTHETIC stock, district point)", place: "tianjin-binhai", at: None, lead_time_hours: 0.1, scale: 1.5, holdings: FIRE_DETACHMENT, source: "GK, as fire-shijiazhuang" },
    // ---------------------------------------------------------------- professional teams
    StandingHolder {
        id: "team-kailuan-mine-rescue",
        kind: TEAM,
        name: "Kailuan national mine rescue team (国家矿山应急救援开滦队; real team, SYNTHETIC stock, city point)",
        place: "tangshan",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[
            h("mine-rescue-squad-kit", 8, 9),
            h("mine-rescue-breathing-apparatus", 100, 0),
            h("self-rescuer-mine", 200, 0),
            h("large-diameter-rescue-drill-rig", 2, 12),
            h("rescue-capsule-borehole", 1, 4),
            h("mine-rescue-robot", 2, 2),
            h("inert-gas-unit", 1, 4),
            h("explosion-proof-ventilation-fan", 4, 0),
            h("tracked-mobile-pump-station", 4, 3),
            h("satellite-comms-command-vehicle", 1, 3),
            h("hazchem-gas-detector-portable", 20, 0),
        ],
        source: "one of the first seven national mine rescue teams, built on Kailuan Group in Tangshan from 2011, with deep-well drainage and training remits (Xinhua 2011-03-29, http://m.nakedoat.com/jrzg/2011-03/29/content_1834041.htm repost; B); large-diameter drilling at Pingyi 2015 (domain-facts §2.7, C); squad of 9 (GK); contents MODEL",
    },
    StandingHolder {
        id: "team-tianjin-petrochem-hazchem",
        kind: TEAM,
        name: "Tianjin Petrochemical national hazchem rescue team (国家危险化学品应急救援天津石化队; real team, SYNTHETIC stock, district point)",
        place: "tianjin-binhai",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[
            h("foam-fire-truck", 8, 5),
            h("large-flow-fire-monitor", 8, 0),
            h("remote-water-supply-system", 1, 6),
            h("chemical-protective-suit-gas-tight", 30, 0),
            h("chemical-protective-suit-level-b", 60, 0),
            h("scba", 100, 0),
            h("decontamination-vehicle", 1, 4),
            h("hazchem-monitoring-vehicle", 1, 3),
            h("hazchem-gas-detector-portable", 20, 0),
            h("leak-plugging-kit-hazchem", 10, 0),
            h("chemical-transfer-pump-ex-proof", 4, 0),
            h("fire-recon-robot-ex-proof", 2, 1),
            h("high-expansion-foam-robot", 1, 1),
            h("oil-boom", 20, 0),
        ],
        source: "built by MEM on the Tianjin Petrochemical fire brigade in 2017, a national hazchem force for Beijing–Tianjin–Hebei (2019-07-26 report, http://www.fujian-window.com/quanguo/tianjin/48021.html repost; B); contents MODEL",
    },
    StandingHolder {
        id: "team-china-sar-beijing",
        kind: TEAM,
        name: "China International Search and Rescue Team (国家地震灾害紧急救援队; real team, SYNTHETIC stock, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 2.0,
        scale: 1.0,
        holdings: &[
            h("usar-heavy-team-kit", 2, 59),
            h("search-dog-team", 16, 1),
            h("life-detector-radar-uwb", 6, 0),
            h("life-detector-audio-vibration", 10, 0),
            h("life-detector-video-snake-eye", 10, 0),
            h("hydraulic-rescue-tool-set", 10, 0),
            h("emt-type1-mobile", 1, 30),
            h("satellite-comms-command-vehicle", 1, 3),
        ],
        source: "the national earthquake rescue team, Beijing: 3 detachments (domain-facts §2.1, A/B CNTV); its medical team of 30 from the Armed Police General Hospital (2010 report, https://baidianfengw.cn/xinwen/1047126.html repost; C); INSARAG heavy team 59 (domain-facts §3); contents MODEL",
    },
    StandingHolder {
        id: "team-china-anneng-tangshan",
        kind: TEAM,
        name: "China Anneng engineering rescue Tangshan base (中国安能; real force, SYNTHETIC stock, city point)",
        place: "tangshan",
        at: None,
        lead_time_hours: 2.0,
        scale: 1.0,
        holdings: &[
            h("drainage-truck-large", 6, 3),
            h("excavator", 8, 1),
            h("bulldozer", 4, 1),
            h("wheel-loader", 4, 1),
            h("dump-truck", 10, 1),
            h("modular-steel-bridge", 2, 12),
            h("amphibious-rescue-vehicle", 2, 3),
            h("assault-boat", 10, 3),
            h("mobile-power-vehicle", 2, 2),
            h("emergency-command-vehicle", 1, 4),
            h("earthquake-rescue-engineering-vehicle", 2, 4),
        ],
        source: "China Anneng, the national natural-disaster engineering rescue force, has a Tangshan base and sent 龙吸水 trucks to Zhengzhou 2021 (domain-facts §5, C); contents MODEL",
    },
    StandingHolder {
        id: "team-beijing-drainage",
        kind: TEAM,
        name: "Beijing Drainage Group mobile pumping (北京排水集团; real fleet, counts sourced, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[
            h("drainage-truck-large", 31, 3),
            h("tracked-mobile-pump-station", 46, 3),
            h("drainage-pump-portable", 145, 2),
        ],
        source: "[BEIJING-DRAINAGE] (scenarios/README.md; B): 222 units, 229,000 m³/h, of which 46 medium and 145 small = 84,000 m³/h; so 222 − 46 − 145 = 31 large units carry 145,000 m³/h (DERIVED). Mapped to the nearest category below each class's mean rate (large ≈ 4,700 → drainage-truck-large 3,000; medium ≈ 1,260 → tracked-mobile-pump-station 1,000; small 180 → drainage-pump-portable 100): conservative. Crews MODEL",
    },
    StandingHolder {
        id: "team-beijing-snow",
        kind: TEAM,
        name: "Beijing Environment Group snow fleet (北京环境集团; real fleet, counts sourced, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[
            h("snow-plough-truck", 94, 1),
            h("deicer-spreader", 295, 1),
            h("roller-brush-snow-truck", 269, 1),
            h("atv-mini-snow-clearer", 60, 1),
        ],
        source: "[BEIJING-SNOW] (scenarios/README.md; B): 94 multi-function ploughs, 259 de-icer trucks + 36 spreaders (= 295 deicer-spreader), 269 sweepers (roller-brush), 60 sidewalk machines; crew of 1 (driver) MODEL",
    },
    StandingHolder {
        id: "team-tianjin-ems",
        kind: TEAM,
        name: "Tianjin emergency medical centre (天津市急救中心; real centre, counts a floor, city point)",
        place: "tianjin",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[h("negative-pressure-ambulance", 20, 4), h("emergency-command-vehicle", 1, 3)],
        source: "sent 20 negative-pressure ambulances, 1 command vehicle and 87 staff to Shijiazhuang, 2021-01-11 (China.org.cn, http://japanese.china.org.cn/photos/2021-01/13/content_77111924_4.htm; B): a floor of what it holds; 87 ÷ 21 vehicles ≈ 4 per vehicle (DERIVED)",
    },
    StandingHolder {
        id: "team-beijing-999",
        kind: TEAM,
        name: "Beijing Red Cross emergency rescue centre 999 (北京999急救; real team, counts a floor, city point)",
        place: "beijing",
        at: None,
        lead_time_hours: 1.0,
        scale: 1.0,
        holdings: &[h("ambulance", 12, 4)],
        source: "sent a 999 team of 12 ambulances and 50 staff to the Yushu earthquake (https://baidianfengw.cn/xinwen/1047126.html repost of a Beijing paper; C): a floor; 50 ÷ 12 ≈ 4 per ambulance (DERIVED)",
    },
    StandingHolder { id: "team-hebei-earthquake-rescue", kind: TEAM, name: "SYNTHETIC Hebei provincial earthquake rescue team (Shijiazhuang)", place: "shijiazhuang", at: None, lead_time_hours: 2.0, scale: 1.0, holdings: &[h("usar-medium-team-kit", 2, 40), h("search-dog-team", 6, 1), h("life-detector-radar-uwb", 2, 0), h("structural-shoring-kit", 4, 0)], source: "MODEL: a provincial team of two INSARAG-medium equivalents (40 each, domain-facts §3); no public inventory found" },
    StandingHolder { id: "team-hebei-emt", kind: TEAM, name: "SYNTHETIC Hebei emergency medical team (紧急医学救援队, Shijiazhuang)", place: "shijiazhuang", at: None, lead_time_hours: 2.0, scale: 1.0, holdings: &[h("emt-type1-mobile", 2, 30), h("emt-type2-field-hospital", 1, 80), h("ambulance", 10, 3), h("mass-casualty-triage-kit", 20, 0)], source: "MODEL: WHO EMT classes (domain-facts §2.5); team sizes GK" },
    StandingHolder { id: "team-xingtai-mine-rescue", kind: TEAM, name: "SYNTHETIC southern Hebei mine rescue team (Xingtai)", place: "xingtai", at: None, lead_time_hours: 1.0, scale: 1.0, holdings: &[h("mine-rescue-squad-kit", 6, 9), h("mine-rescue-breathing-apparatus", 60, 0), h("self-rescuer-mine", 120, 0), h("explosion-proof-ventilation-fan", 2, 0), h("hazchem-gas-detector-portable", 12, 0)], source: "MODEL: the coal fields of Xingtai and Handan keep their own rescue teams (AQ 1008 service radius, [AQ1008]); no public inventory found" },
    StandingHolder { id: "team-handan-mine-rescue", kind: TEAM, name: "SYNTHETIC Handan mine rescue team", place: "handan", at: None, lead_time_hours: 1.0, scale: 1.0, holdings: &[h("mine-rescue-squad-kit", 6, 9), h("mine-rescue-breathing-apparatus", 60, 0), h("self-rescuer-mine", 120, 0), h("explosion-proof-ventilation-fan", 2, 0), h("hazchem-gas-detector-portable", 12, 0)], source: "MODEL, as team-xingtai-mine-rescue" },
    StandingHolder { id: "team-zhangjiakou-forest-fire", kind: TEAM, name: "SYNTHETIC Zhangjiakou forest-fire professional team", place: "zhangjiakou", at: None, lead_time_hours: 1.0, scale: 2.0, holdings: FOREST_FIRE_TEAM, source: "MODEL: forested north Hebei keeps professional forest-fire teams (GK); contents MODEL" },
    StandingHolder { id: "team-beijing-forest-fire", kind: TEAM, name: "SYNTHETIC Beijing forest-fire professional team", place: "beijing", at: None, lead_time_hours: 1.0, scale: 2.0, holdings: FOREST_FIRE_TEAM, source: "MODEL: Beijing's mountain districts keep professional forest-fire teams (GK); contents MODEL" },
    StandingHolder { id: "team-power-grid-zhangjiakou", kind: TEAM, name: "SYNTHETIC power-grid emergency team (Zhangjiakou)", place: "zhangjiakou", at: None, lead_time_hours: 2.0, scale: 1.0, holdings: &[h("deicing-vehicle-power", 2, 3), h("dc-deicing-device", 1, 4), h("mobile-power-vehicle", 6, 2), h("portable-generator", 50, 0), h("uav-power-line-patrol", 10, 2), h("line-deicing-robot", 2, 1)], source: "MODEL: grid companies keep emergency teams for ice storms (GK); contents MODEL" },
];
