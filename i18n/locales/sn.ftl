# OneClass: mazwi emapeji evashandi nepotari yevabereki, muchiShona.
# Shona. Translators: keep each key (left of `=`), change only the text; `{ $name }` is filled in
# by the page.

## Every page
language = Mutauro
sign-out = Buda
sign-in = Pinda
home = Kumba
password = Pasiwedhi
save = Chengetedza

## Staff sign-in
username = Zita rekupinda
dashboards-no-sign-in = Madhashibhodhi evakuru haadi kupinda:
wrong-username-or-password = Zita rekupinda kana pasiwedhi hazvina kunaka.
too-many-attempts = Mayedza kakawanda: mirai maminitsi mashoma mozoedza zvakare.

## The staff landing page
find-learner-label = Tsvaga mudzidzi (zita kana nhamba)
find = Tsvaga
task-admit = Nyoresa mudzidzi mutsva
task-announce = Tumira chiziviso
task-attention = Vadzidzi vanoda kutarisirwa
task-catalog = Zvaunogona kubvunza (SQL)
task-dashboards = Madhashibhodhi
my-classes = Makirasi angu
class = Kirasi
grade = Giredhi
year = Gore
register = Rejista
marks = Mamaki
no-classes = Hamuna makirasi ekumaka.
announcements = Ziviso
to-audience = kuna { $audience }
audience-school = chikoro chose
audience-grade = giredhi { $grade }
audience-class = kirasi { $class }
audience-class-parents = vabereki ve{ $class }

## The register
register-for = Rejista ya{ $date }
register-saved = Zvachengetedzwa: maki { $count } dzanyorwa kana kuchinjwa.
day = Zuva
show = Ratidza
learner = Mudzidzi
mark = Maki
status-present = aripo
status-absent = haapo
status-late = anonoka
status-excused = ane mvumo
save-register = Chengetedza rejista

## The parents' portal
parents = Vabereki
portal-code-sent = Kana { $phone } iri nhamba yemubereki pachikoro chiri paOneClass, kodhi iri kuuya neSMS.
portal-code = Kodhi ine manhamba matanhatu
portal-phone = Nhamba yenyu yefoni (sezvairi kuchikoro)
portal-send-code = Nditumirei kodhi
portal-with-password = Nepasiwedhi
phone-number = Nhamba yefoni
portal-staff = Vashandi vechikoro:
portal-staff-sign-in = pinda sevashandi
portal-not-a-phone = Iyi haisi nhamba yefoni yekuZimbabwe (077 123 4567).
portal-too-many-codes = Makumbira makodhi akawandisa: mirai maminitsi mashoma mozoedza zvakare.
portal-code-format = Kodhi ndiwo manhamba matanhatu ari muSMS.
portal-wrong-code = Kodhi haina kunaka kana yapera nguva: edzai zvakare, kana kumbira imwe.
portal-too-many-tries = Mayedza kakawanda: mirai maminitsi mashoma.
portal-wrong-password = Nhamba yefoni kana pasiwedhi hazvina kunaka.
my-children = Vana vangu
portal-no-children = Hapana mudzidzi akabatanidzwa nenhamba yenyu yefoni. Bvunzai hofisi yechikoro.
attendance-30-days = Kuuya kuchikoro, mazuva 30 apfuura:
no-register-yet = hapasati pane rejista
fees-owed = Mari yechikoro yasara:
from-the-school = Kubva kuchikoro
set-a-password = Isai pasiwedhi
attendance = Kuuya kuchikoro
no-register-30-days = Hapana rejista mumazuva 30 apfuura.
present-days = Aivepo mazuva { $present } pamazuva echikoro { $days } mumazuva 30 apfuura.
marks-this-year = Mamaki egore rino
no-marks-yet = Hapasati pane mamaki.
subject = Chidzidzo
assessment = Bvunzo
score = Mamaki akawanikwa
term-n = temu { $term }
report-cards = Mishumo yechikoro
term-of-year = Temu { $term }, { $year }
fees = Mari yechikoro
owed = Yasara:
pay-towards = Bhadharirai
amount = Huwandu
pay-with-paynow = Bhadharai nePaynow (EcoCash, kadhi)
paynow-not-set-up = Kubhadhara paindaneti hakusati kwagadzirirwa pachikoro chino: bhadharai kuhofisi yechikoro.
password-saved = Zvachengetedzwa. Nguva inotevera, pindai nenhamba yenyu yefoni nepasiwedhi iyi.
new-password = Pasiwedhi itsva (mavara gumi kana kupfuura)

## Marks and mark sheets
marks-of = Mamaki: { $class }
no-assessment = Hapasati pane bvunzo.
term = Temu
out-of = Kubva pa
new-assessment = Bvunzo itsva
learning-area = Chidzidzo
assessment-name = Zita
set-assessment = Isa bvunzo
sheet-detail = { $subject }, { $class }, kubva pa{ $max }
marks-saved = Zvachengetedzwa: mamaki { $count } anyorwa kana kuchinjwa.
save-marks = Chengetedza mamaki

## Learners
learners-matching = Vadzidzi: { $q }
no-learner-matches = Hapana mudzidzi anoenderana na“{ $q }”.
number = Nhamba
status = Mamiriro
more-learners = Vamwe vadzidzi vanoenderana: nyora zvakawanda zvezita.
payment-recorded = Mubhadharo wanyorwa: risiti Nha. { $receipt }.
born = akazvarwa { $date }
guardians = Vabereki kana vachengeti
no-guardian = Hapana mubereki akanyorwa.
no-invoice = Hapana invoyisi.
currency = Mari
invoiced = Inodiwa
paid = Yakabhadharwa
owed-column = Yasara
invoice = Invoyisi
exchange-rate = ZiG padhora rimwe reAmerica nhasi (chete kana kubhadhara nerimwe remari)
method = Nzira
reference = Referensi (EcoCash kana bhanga)
record-payment = Nyora mubhadharo

## Admission
first-name = Zita
surname = Zita remhuri
sex = Murume kana mukadzi
date-of-birth = Zuva rekuzvarwa
learner-number = Nhamba yemudzidzi
beam-pays = BEAM inobhadhara mari yechikoro
ovc = Nherera kana mwana ari panjodzi
first-guardian = Mubereki wekutanga
full-name = Zita rizere
phone = Foni
relationship = Ukama
admit = Nyoresa

## Announcements
announce-sent = Zvatumirwa.
announce-sent-sms = Zvatumirwa, neSMS { $count } dzakamirira kuenda kuvabereki.
to = Kuna
title = Musoro
message = Shoko
also-sms = Tumirawo neSMS kuvabereki
send = Tumira
sent = Zvakatumirwa
choice-school = Chikoro chose
choice-grade = Giredhi { $grade }
choice-class = Kirasi { $class }
choice-parents = Vabereki ve{ $class }

## Attention and the catalog
attention-informs = Munhu ndiye anosarudza zvekuita; rondedzero inongozivisa.
no-learner-meets-rule = Hapana mudzidzi anosangana nemutemo nhasi.
reasons = Zvikonzero
catalog-heading = Zvaunogona kubvunza
catalog-intro = Matafura nemakoramu ese anoverengwa neSQL yako (POST /api/v1/sql, kana psql pachiteshi cheSQL), nezvaanoreva. Nhamba dzevadzidzi dzakavanzwa; mazita nenhamba dzechitupa hazvisi pano.
column = Koramu
type = Rudzi
meaning = Zvarinoreva

## The report card
card-title = Mushumo wechikoro · { $learner } · Temu { $term } { $year }
card-sub = Mushumo wechikoro, temu { $term } yegore { $year } ({ $dates })
card-learner = Mudzidzi
card-learner-number = Nhamba yemudzidzi
card-class = Kirasi
card-grades = Magiredhi
card-learning-areas = Zvidzidzo
card-none-marked = Hapana bvunzo yakamakwa temu ino.
card-learning-area = Chidzidzo
card-assessments = Bvunzo
card-term-mark = Mamaki etemu %
card-grade = Giredhi
card-class-average = Avhareji yekirasi %
card-position = Nzvimbo
card-position-of = { $position } pa{ $of }
card-term-mark-note = Mamaki etemu iavhareji yebvunzo dzakanyorwa, imwe neimwe ichiverengwa nehuremu hwayo; bvunzo isina kunyorwa inosiyiwa, haiverengwi sezero.
card-attendance = Kuuya kuchikoro
card-days-marked = Mazuva akamakwa
card-present = Aripo
card-late = Anonoka
card-absent = Haapo
card-excused = Ane mvumo
card-class-teacher = Mudzidzisi wekirasi
card-head = Mukuru wechikoro
card-scale-g7 = Mayuniti eGiredhi 7 (1 ndiyo yakanakisisa, 9 kukundikana)
card-scale-o = O level (A ndiyo yakanakisisa; C kana kupfuura inopasa)
card-scale-a = A level (A mapoinzi 5 … E 1; O neF hazvipasi)
month-1 = Ndira
month-2 = Kukadzi
month-3 = Kurume
month-4 = Kubvumbi
month-5 = Chivabvu
month-6 = Chikumi
month-7 = Chikunguru
month-8 = Nyamavhuvhu
month-9 = Gunyana
month-10 = Gumiguru
month-11 = Mbudzi
month-12 = Zvita

## The dashboards (officials, leaders and the public)
dash-dashboards = Madhashibhodhi
dash-index_intro = Nhamba dzinobva mumarekodhi ezvikoro etemu iripo, dzinovandudzwa sezvo zvikoro zvichimaka.
dash-attendance = Kuuya kuchikoro
dash-attendance_summary = Chikamu chemamaki ezuva nezuva ekuti aripo kana anonoka, temu ino.
dash-national = Zimbabwe
dash-breadcrumb = Nzira yemapeji
dash-province = Purovhinzi
dash-district = Dunhu
dash-school = Chikoro
dash-sex = Murume kana mukadzi
dash-female = Vasikana
dash-male = Vakomana
dash-learners = Vadzidzi
dash-marks = Mamaki
dash-rate = Chiyero chekuuya kuchikoro
dash-by_province = Chiyero chekuuya kuchikoro papurovhinzi imwe neimwe
dash-by_district = Chiyero chekuuya kuchikoro padunhu rimwe nerimwe
dash-by_school = Chiyero chekuuya kuchikoro pachikoro chimwe nechimwe
dash-term = Temu
dash-term_dates_to = kusvika
dash-no_term = Hapana temu yechikoro yatanga parizvino.
dash-no_marks = Hapasati pane kuuya kuchikoro kwakamakwa temu ino munzvimbo ino.
dash-suppressed_note = Mapoka ane vadzidzi vasingasviki 5 anoratidzwa se<5 kuchengetedza kuvanzika kwavo; kana huwandu hwese hwaizovaburitsa pachena, rimwe boka rinovanzwawo (–).
dash-bad_request = Kero iyoyo haina kunaka
dash-forbidden = Hazviratidzwi kwamuri
dash-schools_signed_in = Nhamba dzezvikoro dzinoratidzwa kuvakuru venzvimbo yazvo nekuvashandi vezvikoro izvo, kana vapinda.
dash-sign_in = Pinda
dash-school_overview = Pfupiso yechikoro
dash-beside = Zvichienzaniswa nedunhu nenyika
dash-this_school = Chikoro chino
dash-enrolment_heading = Vadzidzi vakanyoreswa pagiredhi rimwe nerimwe, vakomana nevasikana
dash-enrolment_by_grade = Vadzidzi pagiredhi rimwe nerimwe
dash-grade = Giredhi
dash-total = Huwandu hwese
dash-attendance_by_class = Kuuya kuchikoro pakirasi imwe neimwe
dash-attendance_weeks = Chikamu chemamaki ekuti aripo kana anonoka, temu ino nemumavhiki ayo achangopfuura (vhiki rimwe nerimwe rinodomwa neMuvhuro waro).
dash-class = Kirasi
dash-subject = Chidzidzo
dash-mean_mark = Avhareji
dash-marks_by_subject = Mamaki etemu pachidzidzo chimwe nechimwe: vadzidzi muchikamu chimwe nechimwe cheavhareji yemamaki avo
dash-need_attention = Vadzidzi vanoda kutarisirwa
dash-need_attention_summary = Nemutemo unogona kuongororwa nemunhu wese: kusauya kuchikoro kazhinji, mamaki ari kudzikira, zera rakapfuura reGiredhi, mari yechikoro isina kubhadharwa; zvikonzero zvemudzidzi mumwe nemumwe zvinoratidzwa.
dash-no_data = Hapasati pane nhamba.
dash-school_too_small = Mapeji enzvimbo haaratidzi nhamba dzechikoro chino (vadzidzi vashoma zvakanyanya, kana kuchengetedza chimwe chikoro chidiki chiri pedyo nacho), saka matafura acho anoratidzwa kuvashandi vacho chete.
dash-furthest = Zvikoro zviri kure kwazvo nenhamba iyi
dash-difference = Musiyano
dash-server_error = Pane chakanganisika
dash-server_error_detail = Nhamba hadzina kukwanisa kuvhurwa. Ndapota edzai zvakare munguva pfupi.
dash-back_to_dashboards = Dzokera kumadhashibhodhi
dash-invalid_parameter = Paramita yacho yakarebesa kana ine mavara asingabvumirwi
dash-indicators = Zviratidzo
dash-indicators_summary = Zviyero zvevadzidzi kumudzidzisi, zviyero zvekunyoreswa, kuuya kuchikoro nekusauya kuchikoro kazhinji gore negore, pamwe nehuwandu huri shure kwenhamba imwe neimwe.
dash-year = Gore
dash-value = Huwandu
dash-no_figures = Hapasati pane nhamba dzechiratidzo ichi munzvimbo ino.
dash-how_computed = Kuti chinoverengwa sei
dash-download_csv = Dhaunirodha tafura (CSV)
dash-unknown_indicator = Hapana chiratidzo chine zita iroro
dash-outlook = Zviri mberi: vadzidzi vari panjodzi uye vadzidzi vanotarisirwa
dash-outlook_summary = Vadzidzi vari panjodzi sekuratidza kwemuenzaniso, uye vadzidzi nevadzidzisi vachadiwa mumakore mashanu anotevera.
dash-risk_heading = Vadzidzi vari panjodzi yekusiya chikoro kana kudzokorora gore rino
dash-risk_note = Kubva pazvakaverengwa nemuenzaniso wekuyambira (docs/model-card.md). Zvinotarisirwa: huwandu hwemikana yevadzidzi, ndiko kuti vangani vanotarisirwa kusiya kana kudzokorora kana pasina chaitwa. Chiverengo chinokurudzira kukurukura pachikoro; hachisarudzi chinhu.
dash-risk_expected = Zvinotarisirwa
dash-risk_high = Mukana we30 % kana kupfuura
dash-risk_scored = Zvakaverengwa musi wa
dash-no_scores = Hapana zvakaverengwa parizvino: muenzaniso unodzidziswa kana dziva rine makore maviri echikoro.
dash-projection_heading = Vadzidzi, varipo nevanotarisirwa
dash-projection_note = Vadzidzi vakanyoreswa pazuva rekuverenga (1 Kurume), nemakore anotevera akafungidzirwa nenzira yekupfuura kwemapoka (zviyero zvekukwira magiredhi, ECD A ichitevera vana vane makore mana), pamwe chete nemuganhu uye vadzidzisi vanodiwa pachiyero chevadzidzi kumudzidzisi.
dash-primary = Praimari (ECD–G7)
dash-secondary = Sekondari (F1–F6)
dash-interval = Muganhu
dash-teachers_needed = Vadzidzisi vanodiwa
dash-actual = zvaripo
dash-projected = zvinofungidzirwa
dash-no_projection = Hapana fungidziro parizvino: mhanyisai oneclass predict project.

## Learning areas (subjects), by code
subject-ENG = Chirungu
subject-MAT = Masvomhu
subject-SHO = ChiShona
subject-NDE = ChiNdebele
subject-SCI = Sainzi neTekinoroji
subject-SOC = Nhaka neZvemagariro
subject-AGR = Zvekurima
subject-GEO = Jogirafi
subject-HIS = Nhoroondo
subject-ACC = Maakaundi
subject-PHY = Fizikisi
subject-CHE = Kemisitiri
subject-BIO = Bhayoroji
subject-ECO = Zvehupfumi
subject-PEA = Zvemitambo neUnyanzvi
subject-ICT = Ruzivo neTekinoroji yeKukurukurirana
subject-HER = Zvidzidzo zveNhaka
subject-CS = Sainzi yeMakombiyuta
subject-LIT = Zvinyorwa zveChirungu

## The indicators: name, what the numerator and the denominator count, and the formula
ind-PTR-name = Chiyero chevadzidzi kumudzidzisi
ind-PTR-numerator = Vadzidzi
ind-PTR-denominator = Vadzidzisi
ind-PTR-formula = Vadzidzi vakanyoreswa pazuva rekuverenga (Muvhuro wekutanga waKurume) ÷ vadzidzisi vari pabasa pazuva iroro.
ind-PQTR-name = Chiyero chevadzidzi kumudzidzisi akadzidziswa
ind-PQTR-numerator = Vadzidzi
ind-PQTR-denominator = Vadzidzisi vakadzidziswa
ind-PQTR-formula = Vadzidzi vakanyoreswa pazuva rekuverenga (Muvhuro wekutanga waKurume) ÷ vadzidzisi vakadzidziswa vari pabasa pazuva iroro.
ind-ATTENDANCE_RATE-name = Chiyero chekuuya kuchikoro
ind-ATTENDANCE_RATE-numerator = Aripo kana anonoka
ind-ATTENDANCE_RATE-denominator = Mamaki
ind-ATTENDANCE_RATE-formula = Mamaki ezuva nezuva ekuti aripo kana anonoka ÷ mamaki ese ezuva nezuva pamazuva echikoro egore × 100.
ind-CHRONIC_ABSENCE_RATE-name = Kusauya kuchikoro kazhinji
ind-CHRONIC_ABSENCE_RATE-numerator = Vasingauyi kazhinji
ind-CHRONIC_ABSENCE_RATE-denominator = Vadzidzi vane mamaki
ind-CHRONIC_ABSENCE_RATE-formula = Vadzidzi vasina kuuya pamazuva anosvika 10 % kana kupfuura emazuva avo echikoro akamakwa ÷ vadzidzi vane mamaki × 100.
ind-GER_PRIMARY-name = Chiyero chekunyoreswa chose, puraimari
ind-GER_PRIMARY-numerator = Vakanyoreswa
ind-GER_PRIMARY-denominator = Huwandu hwevanhu
ind-GER_PRIMARY-formula = Vadzidzi vakanyoreswa muG1–G7 pazuva rekuverenga, zera ripi neripi, ÷ huwandu hwevanhu vane makore 6–12 hunofungidzirwa mumatunhu × 100.
ind-NER_PRIMARY-name = Chiyero chekunyoreswa kwezera rakakodzera, puraimari
ind-NER_PRIMARY-numerator = Vakanyoreswa
ind-NER_PRIMARY-denominator = Huwandu hwevanhu
ind-NER_PRIMARY-formula = Vadzidzi vane makore 6–12 vakanyoreswa muG1–G7 pazuva rekuverenga ÷ huwandu hwevanhu vane makore 6–12 hunofungidzirwa mumatunhu × 100.
ind-GER_LOWER_SECONDARY-name = Chiyero chekunyoreswa chose, sekondari yepasi
ind-GER_LOWER_SECONDARY-numerator = Vakanyoreswa
ind-GER_LOWER_SECONDARY-denominator = Huwandu hwevanhu
ind-GER_LOWER_SECONDARY-formula = Vadzidzi vakanyoreswa muF1–F4 pazuva rekuverenga, zera ripi neripi, ÷ huwandu hwevanhu vane makore 13–16 hunofungidzirwa mumatunhu × 100.
ind-NER_LOWER_SECONDARY-name = Chiyero chekunyoreswa kwezera rakakodzera, sekondari yepasi
ind-NER_LOWER_SECONDARY-numerator = Vakanyoreswa
ind-NER_LOWER_SECONDARY-denominator = Huwandu hwevanhu
ind-NER_LOWER_SECONDARY-formula = Vadzidzi vane makore 13–16 vakanyoreswa muF1–F4 pazuva rekuverenga ÷ huwandu hwevanhu vane makore 13–16 hunofungidzirwa mumatunhu × 100.
ind-GER_UPPER_SECONDARY-name = Chiyero chekunyoreswa chose, sekondari yepamusoro
ind-GER_UPPER_SECONDARY-numerator = Vakanyoreswa
ind-GER_UPPER_SECONDARY-denominator = Huwandu hwevanhu
ind-GER_UPPER_SECONDARY-formula = Vadzidzi vakanyoreswa muF5–F6 pazuva rekuverenga, zera ripi neripi, ÷ huwandu hwevanhu vane makore 17–18 hunofungidzirwa mumatunhu × 100.
ind-NER_UPPER_SECONDARY-name = Chiyero chekunyoreswa kwezera rakakodzera, sekondari yepamusoro
ind-NER_UPPER_SECONDARY-numerator = Vakanyoreswa
ind-NER_UPPER_SECONDARY-denominator = Huwandu hwevanhu
ind-NER_UPPER_SECONDARY-formula = Vadzidzi vane makore 17–18 vakanyoreswa muF5–F6 pazuva rekuverenga ÷ huwandu hwevanhu vane makore 17–18 hunofungidzirwa mumatunhu × 100.
ind-GIR-name = Chiyero chevanopinda chose, Giredhi 1
ind-GIR-numerator = Vatsva vanopinda
ind-GIR-denominator = Vanhu vane makore 6
ind-GIR-formula = Vadzidzi vatsva vanopinda G1 pazuva rekuverenga (vatsva, kana vakakwidziridzwa kubva kuECD B), zera ripi neripi ÷ huwandu hwevanhu vane makore 6 hunofungidzirwa mumatunhu × 100.
ind-REPETITION_RATE-name = Chiyero chekudzokorora giredhi
ind-REPETITION_RATE-numerator = Vanodzokorora gore rinotevera
ind-REPETITION_RATE-denominator = Vakanyoreswa
ind-REPETITION_RATE-formula = Vadzidzi vanodzokorora giredhi gore rinotevera ÷ vadzidzi vakanyoreswa mugiredhi iroro (pamazuva ekuverenga) × 100; magiredhi ese: huwandu hwakasanganiswa hwemagiredhi ese.
ind-PROMOTION_RATE-name = Chiyero chekukwidziridzwa
ind-PROMOTION_RATE-numerator = Vakakwidziridzwa
ind-PROMOTION_RATE-denominator = Vakanyoreswa
ind-PROMOTION_RATE-formula = Vadzidzi vari mugiredhi rinotevera gore rinotevera, kubviswa vanodzokorora giredhi iroro ÷ vadzidzi vakanyoreswa mugiredhi × 100.
ind-DROPOUT_RATE-name = Chiyero chekusiya chikoro
ind-DROPOUT_RATE-numerator = Vakasiya
ind-DROPOUT_RATE-denominator = Vakanyoreswa
ind-DROPOUT_RATE-formula = 100 − chiyero chekukwidziridzwa − chiyero chekudzokorora: vadzidzi vasina kukwidziridzwa kana kudzokorora gore rinotevera ÷ vadzidzi vakanyoreswa × 100.
ind-TRANSITION_RATE-name = Kuenda kusekondari
ind-TRANSITION_RATE-numerator = Vatsva vanopinda F1
ind-TRANSITION_RATE-denominator = Vanobuda muG7
ind-TRANSITION_RATE-formula = Vatsva vanopinda F1 gore rinotevera ÷ (vadzidzi veG7 kubviswa vanodzokorora G7 gore rinotevera) × 100.
ind-G7_PASS_RATE-name = Chiyero chekupasa Giredhi 7
ind-G7_PASS_RATE-numerator = Vakapasa
ind-G7_PASS_RATE-denominator = Vakanyora bvunzo
ind-G7_PASS_RATE-formula = Vakanyora bvunzo vane mayuniti akabatanidzwa (mayuniti ezvidzidzo zvavo zvina zvakanakisisa, kubva pa1 yakanakisisa kusvika pa9 kukundikana, chidzidzo chisipo chichiverengwa se9) ari mukati memuganhu wekupasa (24, kunze kwekunge mumwe wasarudzwa pakuisa purogiramu) ÷ vakanyora bvunzo × 100.
ind-O_LEVEL_PASS_RATE-name = Chiyero chekupasa O level
ind-O_LEVEL_PASS_RATE-numerator = Vakapasa
ind-O_LEVEL_PASS_RATE-denominator = Vakanyora bvunzo
ind-O_LEVEL_PASS_RATE-formula = Vakanyora bvunzo vane zvidzidzo zvishanu kana kupfuura zvine C kana kupfuura ÷ vakanyora bvunzo × 100.
ind-BEAM_COVERAGE-name = Vadzidzi vanobatsirwa neBEAM
ind-BEAM_COVERAGE-numerator = Vanobatsirwa
ind-BEAM_COVERAGE-denominator = Vakanyoreswa
ind-BEAM_COVERAGE-formula = Vadzidzi vakanyoreswa pazuva rekuverenga vane mubhadharo weBEAM gore iroro ÷ vadzidzi vakanyoreswa × 100.
ind-FEE_COLLECTION_RATE-name = Chiyero chekuunganidzwa kwemari yechikoro
ind-FEE_COLLECTION_RATE-numerator = Yakabhadharwa (USD)
ind-FEE_COLLECTION_RATE-denominator = Inodiwa (USD)
ind-FEE_COLLECTION_RATE-formula = Mari yechikoro yakabhadharwa pamainvoyisi egore, mumadhora eAmerica (mibhadharo yeZiG pachiyero chakanyorwa nayo, kusanganisira yeBEAM) ÷ mari yechikoro inodiwa × 100. Mainvoyisi eZiG anosiyiwa.
ind-GPI_GER_PRIMARY-name = Chiratidzo chekuenzana kwevasikana nevakomana, GER yepuraimari
ind-GPI_GER_PRIMARY-numerator = GER, vasikana
ind-GPI_GER_PRIMARY-denominator = GER, vakomana
ind-GPI_GER_PRIMARY-formula = r = GER yevasikana ÷ GER yevakomana; chiratidzo ndi r kana r ≤ 1, kana zvisina kudaro 2 − 1/r (1: kuenzana; pasi pe1: vasikana vashoma).
ind-GPI_GER_LOWER_SECONDARY-name = Chiratidzo chekuenzana kwevasikana nevakomana, GER yesekondari yepasi
ind-GPI_GER_LOWER_SECONDARY-numerator = GER, vasikana
ind-GPI_GER_LOWER_SECONDARY-denominator = GER, vakomana
ind-GPI_GER_LOWER_SECONDARY-formula = r = GER yevasikana ÷ GER yevakomana; chiratidzo ndi r kana r ≤ 1, kana zvisina kudaro 2 − 1/r (1: kuenzana; pasi pe1: vasikana vashoma).
ind-GPI_GER_UPPER_SECONDARY-name = Chiratidzo chekuenzana kwevasikana nevakomana, GER yesekondari yepamusoro
ind-GPI_GER_UPPER_SECONDARY-numerator = GER, vasikana
ind-GPI_GER_UPPER_SECONDARY-denominator = GER, vakomana
ind-GPI_GER_UPPER_SECONDARY-formula = r = GER yevasikana ÷ GER yevakomana; chiratidzo ndi r kana r ≤ 1, kana zvisina kudaro 2 − 1/r (1: kuenzana; pasi pe1: vasikana vashoma).
ind-SURVIVAL_G7-name = Kusvika kuGiredhi 7
ind-SURVIVAL_G7-numerator = Vanosvika kuG7
ind-SURVIVAL_G7-denominator = Vanopinda G1
ind-SURVIVAL_G7-formula = Pavana 1,000 vanopinda G1, avo vanosvika G7 kana giredhi rimwe nerimwe G1–G6 richikwidziridza, richidzokoresa uye richirasikirwa nevana pazviyero zvegore, vanodzokorora vachiedza zvakare pazviyero zvimwe chetezvo (boka revadzidzi rakagadzirwazve) × 100 ÷ 1,000.

## Messages
messages = Mameseji
messages-about = Mameseji: { $name }
no-messages = Hapana meseji parizvino.
messages-live = Mameseji matsva anoonekwa pano achangosvika.
your-message = Meseji yako

## Text messages (SMS)
sms-sign-in-code = OneClass: kodhi yako yekupinda ndeye { $code }. Inoshanda kamwe chete, kwemaminitsi { $minutes }. Usaipe mumwe munhu.
sms-message-waiting = { $school }: pane meseji ine chekuita na{ $learner } yakakumirira paOneClass (/portal/).
sms-password-reset = OneClass: kuti usarudze pasiwedhi itsva ye{ $username }, vhura { $link } mukati memaawa { $hours }. Kana usina kukumbira, usateerera meseji iyi.
sms-invitation = OneClass: makokwa kuti mubatane ne{ $school } se{ $role }. Vhurai { $link } mukati memazuva { $days } kuti musarudze zita renyu rekushandisa nepasiwedhi.

## Why a learner needs attention
reason-chronic-absence = asina kuuya mazuva { $absent } pa{ $marks } akanyorwa temu ino ({ $share } %)
reason-falling-marks = avhareji yemamaki etemu yadzikira kubva pa{ $before } % kusvika pa{ $now } %
reason-over-age = ane makore { $age } ari mu{ $grade }, apo makore anotarisirwa ari { $official }
reason-arrears = hapana chakabhadharwa pamari yechikoro yakapfuura mazuva 30: { $owed }
reason-and = uye

## The early-warning model on the attention list
risk-title = Vadzidzi vanoratidzwa nemuenzaniso sevari panjodzi huru
risk-explained = Muenzaniso (shanduro { $version }, wakaverenga musi wa{ $day }) unofungidzira mukana wekuti mudzidzi asiye chikoro kana adzokorore giredhi gore rino, uchishandisa kuuya kuchikoro, mamaki, zera, mari yechikoro nemamiriro echikoro. Zvikonzero ndizvo zvakasimudza zvikuru mukana uyu. Munhu ndiye anosarudza zvekuita: zvinyorei pazasi.
risk-none = Hapana zvakaverengwa parizvino: muenzaniso hausati waverenga chikoro ichi.
risk-chance = Mukana
risk-actions = Zvakaitwa
risk-record = Nyora chakaitwa
risk-action = Chakaitwa
risk-outcome = Zvakabuda
risk-no-action = hapana chakanyorwa parizvino
risk-absent-last-10 = asina kuuya mazuva { $n } mumavhiki maviri apfuura
risk-absent-share = asina kuuya pa{ $share } % yemazuva echikoro gore rino
risk-absent-4-weeks = asina kuuya pa{ $share } % yemazuva echikoro mumavhiki mana apfuura
risk-absence-change = kusauya kwakwira nezvikamu { $points } pamusoro pegore mumavhiki mana apfuura
risk-mark-this-year = avhareji yemamaki { $mark } % gore rino
risk-mark-last-year = avhareji yemamaki { $mark } % gore rapfuura
risk-mark-change = avhareji yemamaki etemu yachinja nezvikamu { $points } kubva patemu yapfuura
risk-over-age = makore { $years } pamusoro pezera rinotarisirwa regiredhi
risk-repeater = ari kudzokorora giredhi gore rino
risk-transfer-in = apinda chikoro ichi gore rino
risk-unpaid-share = { $share } % yemari yechikoro yasvika isati yabhadharwa
risk-invoices-unpaid = mabhiri { $n } apfuura nguva pasina chakabhadharwa
risk-beam = { $on ->
    [yes] ari paBEAM
   *[no] haasi paBEAM
}
risk-ovc = { $on ->
    [yes] akanyorwa senherera kana mwana ari panjodzi
   *[no] haana kunyorwa senherera kana mwana ari panjodzi
}
risk-disability = { $on ->
    [yes] ane urema hwakanyorwa
   *[no] hapana urema hwakanyorwa
}
risk-rural = { $on ->
    [yes] chikoro chekumaruwa
   *[no] chikoro chemudhorobha
}
risk-secondary = { $on ->
    [yes] chikoro chesekondari
   *[no] chikoro chepraimari
}
risk-school-absence = vadzidzi vechikoro havana kuuya pa{ $share } % yemazuva gore rino
risk-grade = ari mu{ $grade }
risk-days-marked = mazuva echikoro { $n } akanyorwa gore rino
risk-no-marks = hapana mamaki akanyorwa
risk-no-attendance = hapana kuuya kwakanyorwa
risk-no-fees = hapana mari yechikoro yasvika parizvino
