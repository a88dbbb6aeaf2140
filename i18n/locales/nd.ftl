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
