//! Name and place lists for synthetic data: Shona, Ndebele and English given names, common
//! Zimbabwean surnames, districts by province.

use oneclass_core::types::Role;
use rand::Rng;

pub const FEMALE: &[&str] = &[
    "Tariro", "Rudo", "Chipo", "Nyasha", "Tendai", "Rumbidzai", "Tsitsi", "Farai", "Ruvimbo",
    "Vimbai", "Kudzai", "Nokuthula", "Sibongile", "Thandeka", "Nomsa", "Zanele", "Lindiwe",
    "Sithembile", "Grace", "Faith", "Precious", "Mercy", "Ruth", "Anesu", "Tanaka", "Mufaro",
    "Ropafadzo", "Nkosana", "Ntombi", "Chiedza",
];
pub const MALE: &[&str] = &[
    "Tatenda", "Takudzwa", "Tinashe", "Farai", "Tendai", "Kudakwashe", "Tapiwa", "Simbarashe",
    "Munyaradzi", "Blessing", "Tafadzwa", "Sipho", "Themba", "Bongani", "Mthokozisi", "Sizwe",
    "Nkululeko", "Lwazi", "Brian", "Tawanda", "Ngonidzashe", "Prince", "Godknows", "Panashe",
    "Anotida", "Kundai", "Mandla", "Sibusiso", "Tonderai", "Rufaro",
];
pub const SURNAMES: &[&str] = &[
    "Moyo", "Ncube", "Sibanda", "Dube", "Nyathi", "Ndlovu", "Mpofu", "Chikwanha", "Mutasa",
    "Chiwenga", "Mhlanga", "Marufu", "Gumbo", "Zhou", "Shumba", "Mukanya", "Maphosa", "Tshuma",
    "Khumalo", "Mlambo", "Chinamasa", "Makoni", "Mazarura", "Chigumba", "Nyoni", "Mupfumi",
    "Hove", "Chirwa", "O'Brien", "Mavhunga", "Masuku", "Mudzingwa", "Banda", "Phiri",
];
pub const PLACES: &[&str] = &[
    "Chitungwiza", "Mabvuku", "Glen View", "Mufakose", "Nketa", "Lobengula", "Sakubva",
    "Dangamvura", "Rusape", "Nyanga", "Chimanimani", "Birchenough", "Bindura", "Shamva",
    "Mvurwi", "Marondera", "Macheke", "Mutoko", "Chegutu", "Norton", "Karoi", "Zaka", "Gutu",
    "Mashava", "Binga", "Dete", "Nkayi", "Filabusi", "Esigodini", "Plumtree", "Shurugwi",
    "Zvishavane", "Mberengwa", "Lalapanzi", "Mkoba", "Senga", "Chivhu", "Gokwe", "Kadoma",
    "Mhondoro",
];
pub const CLASS_NAMES: &[&str] = &["Msasa", "Mopane", "Baobab", "Jacaranda", "Mukwa", "Marula", "Mobola"];

/// Districts of a province: (name, mostly urban).
pub fn districts(province: &str) -> &'static [(&'static str, bool)] {
    match province {
        "Bulawayo" => &[("Bulawayo Central", true), ("Khami", true)],
        "Harare" => &[("Harare Central", true), ("Epworth", true)],
        "Manicaland" => &[("Mutare", true), ("Chipinge", false), ("Makoni", false)],
        "Mashonaland Central" => &[("Bindura", false), ("Mazowe", false)],
        "Mashonaland East" => &[("Marondera", false), ("Murehwa", false)],
        "Mashonaland West" => &[("Makonde", false), ("Kariba", false)],
        "Masvingo" => &[("Masvingo", false), ("Chiredzi", false)],
        "Matabeleland North" => &[("Hwange", false), ("Lupane", false)],
        "Matabeleland South" => &[("Gwanda", false), ("Beitbridge", false)],
        _ => &[("Gweru", true), ("Kwekwe", false)],
    }
}

pub fn pick<'a>(rng: &mut impl Rng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

pub fn first_name(rng: &mut impl Rng, sex: &str) -> &'static str {
    pick(rng, if sex == "F" { FEMALE } else { MALE })
}

pub fn display_name(role: Role) -> String {
    match role {
        Role::PlatformAdmin => "Platform Administrator".into(),
        Role::Ministry => "Ministry Official".into(),
        Role::ProvinceOfficer => "Provincial Education Officer".into(),
        Role::DistrictOfficer => "District Schools Inspector".into(),
        Role::Analyst => "Education Analyst".into(),
        Role::SchoolHead => "Mrs R. Moyo (Head)".into(),
        Role::Deputy => "Mr T. Ncube (Deputy)".into(),
        Role::Teacher => "Mr K. Dube (Teacher)".into(),
        Role::Bursar => "Ms N. Sibanda (Bursar)".into(),
        Role::Registrar => "Mrs C. Zhou (Registrar)".into(),
        Role::Parent => "Parent".into(),
    }
}
