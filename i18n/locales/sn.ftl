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
