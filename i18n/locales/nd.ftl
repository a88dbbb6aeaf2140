# OneClass: amazwi amakhasi abasebenzi lewebhusayithi yabazali, ngesiNdebele.
# Ndebele. Translators: keep each key (left of `=`), change only the text; `{ $name }` is filled
# in by the page.

## Every page
language = Ulimi
sign-out = Phuma
sign-in = Ngena
home = Ekhaya
password = Iphasiwedi
save = Gcina

## Staff sign-in
username = Ibizo lokungena
dashboards-no-sign-in = Amadeshibhodi ezikhulu awadingi ukungena:
wrong-username-or-password = Ibizo lokungena kumbe iphasiwedi akulunganga.
too-many-attempts = Lizame kanengi: linda imizuzu embalwa bese uzama futhi.

## The staff landing page
find-learner-label = Dinga umfundi (ibizo kumbe inombolo)
find = Dinga
task-admit = Bhalisa umfundi omutsha
task-announce = Thumela isaziso
task-attention = Abafundi abadinga ukunakwa
task-catalog = Ongakubuza (SQL)
task-dashboards = Amadeshibhodi
my-classes = Amakilasi ami
class = Ikilasi
grade = Ibanga
year = Umnyaka
register = Irejista
marks = Amamaki
no-classes = Kalazo amakilasi okumaka.
announcements = Izaziso
to-audience = ku{ $audience }
audience-school = isikolo sonke
audience-grade = ibanga { $grade }
audience-class = ikilasi { $class }
audience-class-parents = abazali be{ $class }

## The register
register-for = Irejista ka{ $date }
register-saved = Kugciniwe: amamaki angu-{ $count } abhaliwe kumbe aguqulwa.
day = Usuku
show = Tshengisa
learner = Umfundi
mark = Imaki
status-present = ukhona
status-absent = kakho
status-late = uphuzile
status-excused = uvunyelwe
save-register = Gcina irejista

## The parents' portal
parents = Abazali
portal-code-sent = Nxa u-{ $phone } eyinombolo yomzali esikolweni esiku-OneClass, ikhodi iyeza nge-SMS.
portal-code = Ikhodi yezinombolo eziyisithupha
portal-phone = Inombolo yakho yefoni (njengoba isikolo siyibhalile)
portal-send-code = Ngithumelela ikhodi
portal-with-password = Ngephasiwedi
phone-number = Inombolo yefoni
portal-staff = Abasebenzi besikolo:
portal-staff-sign-in = ngena njengomsebenzi
portal-not-a-phone = Le kayisiyo inombolo yefoni yeZimbabwe (077 123 4567).
portal-too-many-codes = Licele amakhodi amanengi: linda imizuzu embalwa bese uzama futhi.
portal-code-format = Ikhodi yizinombolo eziyisithupha ezise-SMS.
portal-wrong-code = Ikhodi ayilunganga kumbe isiphelelwe yisikhathi: zama futhi, kumbe ucele enye.
portal-too-many-tries = Lizame kanengi: linda imizuzu embalwa.
portal-wrong-password = Inombolo yefoni kumbe iphasiwedi akulunganga.
my-children = Abantwana bami
portal-no-children = Akulamfundi ohlanganiswe lenombolo yakho yefoni. Buza ehofisini yesikolo.
attendance-30-days = Ukuza esikolo, insuku ezingu-30 ezedlulayo:
no-register-yet = akukabi lerejista
fees-owed = Imali yesikolo esele:
from-the-school = Kuvela esikolweni
set-a-password = Faka iphasiwedi
attendance = Ukuza esikolo
no-register-30-days = Akularejista ezinsukwini ezingu-30 ezedlulayo.
present-days = Ube khona insuku ezingu-{ $present } kwezingu-{ $days } zesikolo ezinsukwini ezingu-30 ezedlulayo.
marks-this-year = Amamaki alumnyaka
no-marks-yet = Akukabi lamamaki.
subject = Isifundo
assessment = Ukuhlolwa
score = Amamaki atholakeleyo
term-n = itemu { $term }
report-cards = Imibiko yesikolo
term-of-year = Itemu { $term }, { $year }
fees = Imali yesikolo
owed = Esele:
pay-towards = Bhadalela
amount = Inani
pay-with-paynow = Bhadala nge-Paynow (EcoCash, ikhadi)
paynow-not-set-up = Ukubhadala nge-inthanethi akukalungiswa kulesi sikolo: bhadala ehofisini yesikolo.
password-saved = Kugciniwe. Ngokulandelayo, ngena ngenombolo yakho yefoni lale phasiwedi.
new-password = Iphasiwedi entsha (okungenani izinhlamvu ezilitshumi)

## Marks and mark sheets
marks-of = Amamaki: { $class }
no-assessment = Akukabi lokuhlolwa.
term = Itemu
out-of = Kuma
new-assessment = Ukuhlolwa okutsha
learning-area = Isifundo
assessment-name = Ibizo
set-assessment = Faka ukuhlolwa
sheet-detail = { $subject }, { $class }, kuma-{ $max }
marks-saved = Kugciniwe: amamaki angu-{ $count } abhaliwe kumbe aguqulwa.
save-marks = Gcina amamaki

## Learners
learners-matching = Abafundi: { $q }
no-learner-matches = Akulamfundi ofanana lo“{ $q }”.
number = Inombolo
status = Isimo
more-learners = Abanye abafundi bayafanana: bhala okunengi kwebizo.
payment-recorded = Inkokhelo ibhaliwe: irisidi inombolo { $receipt }.
born = wazalwa { $date }
guardians = Abazali kumbe abagcini
no-guardian = Akulamzali obhaliweyo.
no-invoice = Akula-invoyisi.
currency = Imali
invoiced = Efunekayo
paid = Ebhadaliweyo
owed-column = Esele
invoice = I-invoyisi
exchange-rate = ZiG ngedola elilodwa laseMelika lamuhla (kuphela nxa ubhadala ngenye imali)
method = Indlela
reference = Ireferensi (EcoCash kumbe ibhanga)
record-payment = Bhala inkokhelo

## Admission
first-name = Ibizo
surname = Isibongo
sex = Ubulili
date-of-birth = Usuku lokuzalwa
learner-number = Inombolo yomfundi
beam-pays = I-BEAM ibhadala imali yesikolo
ovc = Intandane kumbe umntwana osengozini
first-guardian = Umzali wokuqala
full-name = Ibizo eligcweleyo
phone = Ifoni
relationship = Ubuhlobo
admit = Bhalisa

## Announcements
announce-sent = Kuthunyelwe.
announce-sent-sms = Kuthunyelwe, lama-SMS angu-{ $count } alindele ukuya kubazali.
to = Ku
title = Isihloko
message = Umlayezo
also-sms = Thumela lange-SMS kubazali
send = Thumela
sent = Okuthunyelweyo
choice-school = Isikolo sonke
choice-grade = Ibanga { $grade }
choice-class = Ikilasi { $class }
choice-parents = Abazali be{ $class }

## Attention and the catalog
attention-informs = Ngumuntu okhetha okumele kwenziwe; uhlu luyatshela kuphela.
no-learner-meets-rule = Akulamfundi ohlangabezana lomthetho lamuhla.
reasons = Izizathu
catalog-heading = Ongakubuza
catalog-intro = Wonke amatafula lamakholamu i-SQL yakho engawabala (POST /api/v1/sql, kumbe i-psql esiteshini se-SQL), lokuthi atshoni. Izinombolo zabafundi zifihliwe; amabizo lezinombolo zamapasipoti kakho lapha.
column = Ikholamu
type = Uhlobo
meaning = Okutshiwoyo

## The report card
card-title = Umbiko wesikolo · { $learner } · Itemu { $term } { $year }
card-sub = Umbiko wesikolo, itemu { $term } yomnyaka { $year } ({ $dates })
card-learner = Umfundi
card-learner-number = Inombolo yomfundi
card-class = Ikilasi
card-grades = Amazinga
card-learning-areas = Izifundo
card-none-marked = Akulakuhlolwa okumakiweyo kule temu.
card-learning-area = Isifundo
card-assessments = Ukuhlolwa
card-term-mark = Amamaki etemu %
card-grade = Izinga
card-class-average = Isilinganiso sekilasi %
card-position = Indawo
card-position-of = { $position } kwabangu-{ $of }
card-term-mark-note = Amamaki etemu yisilinganiso sokuhlolwa okubhaliweyo, ukuhlolwa ngakunye kubalwa ngokwesisindo sakho; ukuhlolwa okungabhalwanga kuyatshiywa, akubalwa njengoziro.
card-attendance = Ukuza esikolo
card-days-marked = Insuku ezimakiweyo
card-present = Ukhona
card-late = Uphuzile
card-absent = Kakho
card-excused = Uvunyelwe
card-class-teacher = Uthisha wekilasi
card-head = Inhloko yesikolo
card-scale-g7 = Amayunithi eBanga 7 (1 ngelingcono kakhulu, 9 yikwehluleka)
card-scale-o = O level (A ngongcono kakhulu; C kumbe ngcono uyaphasa)
card-scale-a = A level (A amaphoyinti angu-5 … E angu-1; O lo F kakuphasi)
month-1 = Zibandlela
month-2 = Nhlolanja
month-3 = Mbimbitho
month-4 = Mabasa
month-5 = Nkwenkwezi
month-6 = Nhlangula
month-7 = Ntulikazi
month-8 = Ncwabakazi
month-9 = Mpandula
month-10 = Mfumfu
month-11 = Lwezi
month-12 = Mpalakazi

## The dashboards (officials, leaders and the public)
dash-dashboards = Amadeshibhodi
dash-index_intro = Izinombolo ezivela emarekhodini ezikolo etemu yakhathesi, zivuselelwa njengoba izikolo zimaka.
dash-attendance = Ukuza esikolo
dash-attendance_summary = Isabelo samamaki elanga ngalinye okuthi ukhona kumbe uphuzile, kule temu.
dash-national = Zimbabwe
dash-breadcrumb = Indlela yamakhasi
dash-province = Isifundazwe
dash-district = Isiqinti
dash-school = Isikolo
dash-sex = Ubulili
dash-female = Amantombazana
dash-male = Abafana
dash-learners = Abafundi
dash-marks = Amamaki
dash-rate = Izinga lokuza esikolo
dash-by_province = Izinga lokuza esikolo ngesifundazwe
dash-by_district = Izinga lokuza esikolo ngesiqinti
dash-by_school = Izinga lokuza esikolo ngesikolo
dash-term = Itemu
dash-term_dates_to = kuze kube
dash-no_term = Akukabi letemu yesikolo eseqalile.
dash-no_marks = Akukabi lokuza esikolo okumakiweyo kule temu kule ndawo.
dash-suppressed_note = Amaqembu alabafundi abangaphansi kuka-5 atshengiswa njengo-<5 ukuvikela imfihlo yabo; nxa isamba singabaveza, elinye iqembu lifihlwa lalo (–).
dash-bad_request = Ikheli leli alilunganga
dash-forbidden = Akutshengiswa kuwe
dash-schools_signed_in = Izinombolo zezikolo zitshengiswa izikhulu zendawo yazo labasebenzi bezikolo lezo, nxa sebengenile.
dash-sign_in = Ngena
dash-school_overview = Isifinyezo sesikolo
dash-beside = Kuqhathaniswa lesiqinti lelizwe
dash-this_school = Lesi sikolo
dash-enrolment_heading = Abafundi ababhalisiweyo ngebanga langobulili
dash-enrolment_by_grade = Abafundi ngebanga
dash-grade = Ibanga
dash-total = Isamba
dash-attendance_by_class = Ukuza esikolo ngekilasi
dash-attendance_weeks = Isabelo samamaki okuthi ukhona kumbe uphuzile, kule temu lakuwo wonke amaviki ayo akamuva (iviki ngalinye libizwa ngoMvulo walo).
dash-class = Ikilasi
dash-subject = Isifundo
dash-mean_mark = Isilinganiso
dash-marks_by_subject = Amamaki etemu ngesifundo: abafundi esigabeni ngasinye sesilinganiso samamaki abo
dash-need_attention = Abafundi abadinga ukunakwa
dash-need_attention_summary = Ngomthetho ongahlolwa yiloba ngubani: ukungezi esikolo kanengi, amamaki ehlayo, ukudlula iminyaka yebanga, imali yesikolo esalayo; izizathu zomfundi ngamunye ziyatshengiswa.
dash-no_data = Akukabi lezinombolo.
dash-school_too_small = Amakhasi endawo kawatshengisi izinombolo zalesi sikolo (abafundi abalutshwana kakhulu, kumbe ukuvikela esinye isikolo esincane esiseduze laso), ngakho amatafula aso atshengiswa abasebenzi baso kuphela.
dash-furthest = Izikolo ezikhatshana kakhulu lale nombolo
dash-difference = Umehluko
dash-server_error = Kukhona okungahambanga kahle
dash-server_error_detail = Izinombolo azikwazanga ukulayishwa. Sicela uzame futhi ngemva kwesikhatshana.
dash-back_to_dashboards = Buyela kumadeshibhodi
dash-invalid_parameter = Ipharamitha inde kakhulu kumbe ilezinhlamvu ezingavunyelwanga
dash-indicators = Izikhombo
dash-indicators_summary = Izilinganiso zabafundi kuthisha, izilinganiso zokubhalisa, ukuza esikolo lokungezi esikolo kanengi ngomnyaka, kanye lamanani angemva kwenombolo ngayinye.
dash-year = Umnyaka
dash-value = Inani
dash-no_figures = Akukabi lezinombolo zalesi sikhombo kule ndawo.
dash-how_computed = Indlela esibalwa ngayo
dash-download_csv = Dawuniloda itafula (CSV)
dash-unknown_indicator = Akulasikhombo salelo bizo
dash-outlook = Okuzayo: abafundi abasengozini lenani elilindelweyo
dash-outlook_summary = Abafundi abasengozini ngokwemodeli, labafundi labafundisi abazadingeka eminyakeni emihlanu ezayo.
dash-risk_heading = Abafundi abasengozini yokuyekela isikolo kumbe ukuphinda kulo umnyaka
dash-risk_note = Kusukela ekubaleni kwakamuva kwemodeli yokuxwayisa (docs/model-card.md). Okulindelweyo: isamba samathuba abafundi, inani elilindelwe ukuyekela kumbe ukuphinda nxa kungenziwa lutho. Inani likhuthaza ukukhulumisana esikolo; kalikhethi lutho.
dash-risk_expected = Okulindelweyo
dash-risk_high = Ithuba lika-30 % kumbe ngaphezulu
dash-risk_scored = Kubalwe ngo
dash-no_scores = Akukabalwa lutho: imodeli iqeqeshwa nxa idamu selilemnyaka emibili yesikolo.
dash-projection_heading = Abafundi, abakhona labalindelweyo
dash-projection_note = Abafundi ababhaliswe ngelanga lokubala (1 Kwindla), leminyaka ezayo elinganiswe ngendlela yokudlula kwamaqembu (izilinganiso zokwenyuka amabanga, i-ECD A ilandela abantwana abaleminyaka emine), kanye lomngcele labafundisi abadingekayo esilinganisweni sabafundi kumfundisi.
dash-primary = Iphrayimari (ECD–G7)
dash-secondary = Isekhondari (F1–F6)
dash-interval = Umngcele
dash-teachers_needed = Abafundisi abadingekayo
dash-actual = okukhona
dash-projected = okulinganisiweyo
dash-no_projection = Akukalinganiswa lutho: qalisani oneclass predict project.

## Learning areas (subjects), by code
subject-ENG = IsiNgisi
subject-MAT = Izibalo
subject-SHO = IsiShona
subject-NDE = IsiNdebele
subject-SCI = Isayensi leTheknoloji
subject-SOC = Amagugu lezeNhlalo
subject-AGR = Ezolimo
subject-GEO = Ijografi
subject-HIS = Umlando
subject-ACC = Ama-akhawunti
subject-PHY = Ifiziksi
subject-CHE = Ikhemistri
subject-BIO = Ibhayoloji
subject-ECO = Ezomnotho
subject-PEA = Ezemidlalo lobuCiko
subject-ICT = Ulwazi lobuChwepheshe bokuXhumana
subject-HER = Izifundo zeNdabuko
subject-CS = ISayensi yamaKhompiyutha
subject-LIT = Imibhalo yesiNgisi

## The indicators: name, what the numerator and the denominator count, and the formula
ind-PTR-name = Isilinganiso sabafundi kuthisha
ind-PTR-numerator = Abafundi
ind-PTR-denominator = Othisha
ind-PTR-formula = Abafundi ababhalisiweyo ngosuku lokubala (uMvulo wokuqala kaMbimbitho) ÷ othisha abasemsebenzini ngalolo suku.
ind-PQTR-name = Isilinganiso sabafundi kuthisha oqeqeshiweyo
ind-PQTR-numerator = Abafundi
ind-PQTR-denominator = Othisha abaqeqeshiweyo
ind-PQTR-formula = Abafundi ababhalisiweyo ngosuku lokubala (uMvulo wokuqala kaMbimbitho) ÷ othisha abaqeqeshiweyo abasemsebenzini ngalolo suku.
ind-ATTENDANCE_RATE-name = Izinga lokuza esikolo
ind-ATTENDANCE_RATE-numerator = Ukhona kumbe uphuzile
ind-ATTENDANCE_RATE-denominator = Amamaki
ind-ATTENDANCE_RATE-formula = Amamaki elanga ngalinye okuthi ukhona kumbe uphuzile ÷ wonke amamaki elanga ngalinye ngensuku zesikolo zomnyaka × 100.
ind-CHRONIC_ABSENCE_RATE-name = Ukungezi esikolo kanengi
ind-CHRONIC_ABSENCE_RATE-numerator = Abangezi kanengi
ind-CHRONIC_ABSENCE_RATE-denominator = Abafundi abalamamaki
ind-CHRONIC_ABSENCE_RATE-formula = Abafundi abangezanga okungenani ku-10 % wensuku zabo zesikolo ezimakiweyo ÷ abafundi abalamamaki × 100.
ind-GER_PRIMARY-name = Isilinganiso sokubhalisa jikelele, iphrayimari
ind-GER_PRIMARY-numerator = Ababhalisiweyo
ind-GER_PRIMARY-denominator = Inani labantu
ind-GER_PRIMARY-formula = Abafundi ababhalisiweyo ku-G1–G7 ngosuku lokubala, loba yiyiphi iminyaka, ÷ inani labantu abaleminyaka engu-6–12 elilinganiselwayo eziqintini × 100.
ind-NER_PRIMARY-name = Izinga lokubhalisa ngeminyaka efaneleyo, iphrayimari
ind-NER_PRIMARY-numerator = Ababhalisiweyo
ind-NER_PRIMARY-denominator = Inani labantu
ind-NER_PRIMARY-formula = Abafundi abaleminyaka engu-6–12 ababhalisiweyo ku-G1–G7 ngosuku lokubala ÷ inani labantu abaleminyaka engu-6–12 elilinganiselwayo eziqintini × 100.
ind-GER_LOWER_SECONDARY-name = Isilinganiso sokubhalisa jikelele, isekhondari ephansi
ind-GER_LOWER_SECONDARY-numerator = Ababhalisiweyo
ind-GER_LOWER_SECONDARY-denominator = Inani labantu
ind-GER_LOWER_SECONDARY-formula = Abafundi ababhalisiweyo ku-F1–F4 ngosuku lokubala, loba yiyiphi iminyaka, ÷ inani labantu abaleminyaka engu-13–16 elilinganiselwayo eziqintini × 100.
ind-NER_LOWER_SECONDARY-name = Izinga lokubhalisa ngeminyaka efaneleyo, isekhondari ephansi
ind-NER_LOWER_SECONDARY-numerator = Ababhalisiweyo
ind-NER_LOWER_SECONDARY-denominator = Inani labantu
ind-NER_LOWER_SECONDARY-formula = Abafundi abaleminyaka engu-13–16 ababhalisiweyo ku-F1–F4 ngosuku lokubala ÷ inani labantu abaleminyaka engu-13–16 elilinganiselwayo eziqintini × 100.
ind-GER_UPPER_SECONDARY-name = Isilinganiso sokubhalisa jikelele, isekhondari ephezulu
ind-GER_UPPER_SECONDARY-numerator = Ababhalisiweyo
ind-GER_UPPER_SECONDARY-denominator = Inani labantu
ind-GER_UPPER_SECONDARY-formula = Abafundi ababhalisiweyo ku-F5–F6 ngosuku lokubala, loba yiyiphi iminyaka, ÷ inani labantu abaleminyaka engu-17–18 elilinganiselwayo eziqintini × 100.
ind-NER_UPPER_SECONDARY-name = Izinga lokubhalisa ngeminyaka efaneleyo, isekhondari ephezulu
ind-NER_UPPER_SECONDARY-numerator = Ababhalisiweyo
ind-NER_UPPER_SECONDARY-denominator = Inani labantu
ind-NER_UPPER_SECONDARY-formula = Abafundi abaleminyaka engu-17–18 ababhalisiweyo ku-F5–F6 ngosuku lokubala ÷ inani labantu abaleminyaka engu-17–18 elilinganiselwayo eziqintini × 100.
ind-GIR-name = Isilinganiso sabangenayo jikelele, iBanga 1
ind-GIR-numerator = Abangenayo abatsha
ind-GIR-denominator = Abantu abaleminyaka engu-6
ind-GIR-formula = Abangenayo abatsha ku-G1 ngosuku lokubala (abatsha, kumbe abakhuphuliwe bevela ku-ECD B), loba yiyiphi iminyaka ÷ inani labantu abaleminyaka engu-6 elilinganiselwayo eziqintini × 100.
ind-REPETITION_RATE-name = Izinga lokuphinda ibanga
ind-REPETITION_RATE-numerator = Abaphindayo ngomnyaka olandelayo
ind-REPETITION_RATE-denominator = Ababhalisiweyo
ind-REPETITION_RATE-formula = Abafundi abaphinda ibanga ngomnyaka olandelayo ÷ abafundi ababhalisiweyo kulelo banga (ngezinsuku zokubala) × 100; wonke amabanga: izamba zamabanga wonke.
ind-PROMOTION_RATE-name = Izinga lokukhuphulelwa
ind-PROMOTION_RATE-numerator = Abakhuphuliweyo
ind-PROMOTION_RATE-denominator = Ababhalisiweyo
ind-PROMOTION_RATE-formula = Abafundi abasebangeni elilandelayo ngomnyaka olandelayo, kususwe abaliphindayo ÷ abafundi ababhalisiweyo ebangeni × 100.
ind-DROPOUT_RATE-name = Izinga lokuyekela isikolo
ind-DROPOUT_RATE-numerator = Abayekeleyo
ind-DROPOUT_RATE-denominator = Ababhalisiweyo
ind-DROPOUT_RATE-formula = 100 − izinga lokukhuphulelwa − izinga lokuphinda: abafundi abangakhuphulelwanga njalo abangaphindanga ngomnyaka olandelayo ÷ abafundi ababhalisiweyo × 100.
ind-TRANSITION_RATE-name = Ukuya esekhondari
ind-TRANSITION_RATE-numerator = Abangenayo abatsha ku-F1
ind-TRANSITION_RATE-denominator = Abaphuma ku-G7
ind-TRANSITION_RATE-formula = Abangenayo abatsha ku-F1 ngomnyaka olandelayo ÷ (abafundi be-G7 kususwe abaphinda i-G7 ngomnyaka olandelayo) × 100.
ind-G7_PASS_RATE-name = Izinga lokuphasa iBanga 7
ind-G7_PASS_RATE-numerator = Abaphasileyo
ind-G7_PASS_RATE-denominator = Abahlolwayo
ind-G7_PASS_RATE-formula = Abahlolwayo abalesamba (amayunithi ezifundo zabo ezine ezingcono kakhulu, kusukela ku-1 okungcono kakhulu kuze kube ku-9 okungukwehluleka, isifundo esingekho sibalwa njengo-9) esingaphakathi komngcele wokuphasa (24 ngaphandle kokuthi uhlelo lubeke omunye) ÷ abahlolwayo × 100.
ind-O_LEVEL_PASS_RATE-name = Izinga lokuphasa i-O level
ind-O_LEVEL_PASS_RATE-numerator = Abaphasileyo
ind-O_LEVEL_PASS_RATE-denominator = Abahlolwayo
ind-O_LEVEL_PASS_RATE-formula = Abahlolwayo abalezifundo ezinhlanu kumbe ngaphezulu ezino-C kumbe ngcono ÷ abahlolwayo × 100.
ind-BEAM_COVERAGE-name = Abasizwa yi-BEAM
ind-BEAM_COVERAGE-numerator = Abasizwayo
ind-BEAM_COVERAGE-denominator = Ababhalisiweyo
ind-BEAM_COVERAGE-formula = Abafundi ababhalisiweyo ngosuku lokubala abalenkokhelo ye-BEAM ngalowo mnyaka ÷ abafundi ababhalisiweyo × 100.
ind-FEE_COLLECTION_RATE-name = Izinga lokuqoqwa kwemali yesikolo
ind-FEE_COLLECTION_RATE-numerator = Ebhadaliweyo (USD)
ind-FEE_COLLECTION_RATE-denominator = Efunekayo (USD)
ind-FEE_COLLECTION_RATE-formula = Imali yesikolo ebhadaliweyo kuma-invoyisi omnyaka, ngamadola aseMelika (izinkokhelo ze-ZiG ngenani lokutshintshisa elibhalwe lazo, kubalwa lezo ze-BEAM) ÷ imali yesikolo efunekayo × 100. Ama-invoyisi e-ZiG ayatshiywa.
ind-GPI_GER_PRIMARY-name = Isikhombo sokulingana kobulili, i-GER yephrayimari
ind-GPI_GER_PRIMARY-numerator = I-GER, amantombazana
ind-GPI_GER_PRIMARY-denominator = I-GER, abafana
ind-GPI_GER_PRIMARY-formula = r = i-GER yamantombazana ÷ i-GER yabafana; isikhombo ngu-r nxa r ≤ 1, kungenjalo 2 − 1/r (1: ukulingana; ngaphansi kuka-1: amantombazana mancane ngenani).
ind-GPI_GER_LOWER_SECONDARY-name = Isikhombo sokulingana kobulili, i-GER yesekhondari ephansi
ind-GPI_GER_LOWER_SECONDARY-numerator = I-GER, amantombazana
ind-GPI_GER_LOWER_SECONDARY-denominator = I-GER, abafana
ind-GPI_GER_LOWER_SECONDARY-formula = r = i-GER yamantombazana ÷ i-GER yabafana; isikhombo ngu-r nxa r ≤ 1, kungenjalo 2 − 1/r (1: ukulingana; ngaphansi kuka-1: amantombazana mancane ngenani).
ind-GPI_GER_UPPER_SECONDARY-name = Isikhombo sokulingana kobulili, i-GER yesekhondari ephezulu
ind-GPI_GER_UPPER_SECONDARY-numerator = I-GER, amantombazana
ind-GPI_GER_UPPER_SECONDARY-denominator = I-GER, abafana
ind-GPI_GER_UPPER_SECONDARY-formula = r = i-GER yamantombazana ÷ i-GER yabafana; isikhombo ngu-r nxa r ≤ 1, kungenjalo 2 − 1/r (1: ukulingana; ngaphansi kuka-1: amantombazana mancane ngenani).
ind-SURVIVAL_G7-name = Ukufika eBangeni 7
ind-SURVIVAL_G7-numerator = Abafika ku-G7
ind-SURVIVAL_G7-denominator = Abangena ku-G1
ind-SURVIVAL_G7-formula = Kubantwana abangu-1,000 abangena ku-G1, yilabo abafika ku-G7 nxa ibanga ngalinye G1–G6 likhuphula, liphindisa njalo lilahlekelwa ngabafundi ngamazinga omnyaka, abaphindayo bezama futhi ngamazinga afanayo (iqembu elakhiwe kutsha) × 100 ÷ 1,000.

## Messages
messages = Imilayezo
messages-about = Imilayezo: { $name }
no-messages = Akula milayezo okwamanje.
messages-live = Imilayezo emitsha ivela lapha ngokufika kwayo.
your-message = Umlayezo wakho

## Text messages (SMS)
sms-sign-in-code = OneClass: ikhodi yakho yokungena ngu-{ $code }. Isebenza kanye kuphela, okwemizuzu engu-{ $minutes }. Ungayiniki omunye umuntu.
sms-message-waiting = { $school }: kulomlayezo omayelana lo-{ $learner } okulindileyo ku-OneClass (/portal/).
sms-password-reset = OneClass: ukuze ukhethe iphasiwedi entsha ka-{ $username }, vula { $link } phakathi kwamahora angu-{ $hours }. Nxa ungacelanga, ungawunaki lumlayezo.
sms-invitation = OneClass: uyamenywa ukuthi ujoyine i-{ $school } njenge-{ $role }. Vula { $link } phakathi kwezinsuku ezingu-{ $days } ukuze ukhethe ibizo lakho lokungena lephasiwedi.

## Why a learner needs attention
reason-chronic-absence = ebengekho izinsuku ezingu-{ $absent } kwezingu-{ $marks } ezibhaliweyo kuleli themu ({ $share } %)
reason-falling-marks = isilinganiso samamaki ethemu sehlile sisuka ku-{ $before } % saya ku-{ $now } %
reason-over-age = uleminyaka engu-{ $age } ku-{ $grade }, lapho iminyaka efaneleyo ingu-{ $official }
reason-arrears = kakukho okuhlawulweyo emalini yesikolo esephuze insuku ezingu-30 kumbe ngaphezulu: { $owed }
reason-and = lo

## The early-warning model on the attention list
risk-title = Abafundi imodeli ebabeka njengabasengozini enkulu
risk-explained = Imodeli (uhlobo { $version }, ebale ngo-{ $day }) ilinganisa ithuba lokuthi umfundi ayekele isikolo kumbe aphinde ibanga kulo umnyaka, isebenzisa ukuza esikolo, amamaki, iminyaka, imali yesikolo lesimo sesikolo. Izizathu yizo eziphakamise kakhulu ithuba leli. Ngumuntu okhetha okumele kwenziwe: kubhaleni ngezansi.
risk-none = Akukabalwa lutho: imodeli ayikasibali lesi isikolo.
risk-chance = Ithuba
risk-actions = Okwenziweyo
risk-record = Bhala okwenziweyo
risk-action = Okwenziweyo
risk-outcome = Okuphumileyo
risk-no-action = akukabhalwa lutho
risk-absent-last-10 = ebengekho izinsuku ezingu-{ $n } emavikini amabili edlulileyo
risk-absent-share = ebengekho ku-{ $share } % wezinsuku zesikolo kulo umnyaka
risk-absent-4-weeks = ebengekho ku-{ $share } % wezinsuku zesikolo emavikini amane edlulileyo
risk-absence-change = ukungabi khona kwenyukile ngamaphuzu angu-{ $points } ngaphezu komnyaka emavikini amane edlulileyo
risk-mark-this-year = isilinganiso samamaki { $mark } % kulo umnyaka
risk-mark-last-year = isilinganiso samamaki { $mark } % umnyaka odlulileyo
risk-mark-change = isilinganiso samamaki ethemu sintshintshe ngamaphuzu angu-{ $points } kusukela ethemini edlulileyo
risk-over-age = iminyaka engu-{ $years } ngaphezu kweminyaka efaneleyo yebanga
risk-repeater = uphinda ibanga kulo umnyaka
risk-transfer-in = ungene kulesi isikolo kulo umnyaka
risk-unpaid-share = { $share } % wemali yesikolo efikileyo kayikahlawulwa
risk-invoices-unpaid = amabhili angu-{ $n } esephuzile kungelalutho oluhlawulweyo
risk-beam = { $on ->
    [yes] use-BEAM
   *[no] kasi ku-BEAM
}
risk-ovc = { $on ->
    [yes] ubhalwe njengentandane kumbe umntwana osengozini
   *[no] kabhalwanga njengentandane kumbe umntwana osengozini
}
risk-disability = { $on ->
    [yes] ukukhubazeka kubhaliwe
   *[no] akulakukhubazeka okubhaliweyo
}
risk-rural = { $on ->
    [yes] isikolo sasemaphandleni
   *[no] isikolo sasedolobheni
}
risk-secondary = { $on ->
    [yes] isikolo sesekhondari
   *[no] isikolo sephrayimari
}
risk-school-absence = abafundi besikolo bebengekho ku-{ $share } % wezinsuku kulo umnyaka
risk-grade = ku-{ $grade }
risk-days-marked = izinsuku zesikolo ezingu-{ $n } ezibhaliweyo kulo umnyaka
risk-no-marks = awekho amamaki abhaliweyo
risk-no-attendance = akukho ukuza okubhaliweyo
risk-no-fees = ayikho imali yesikolo esifikileyo
