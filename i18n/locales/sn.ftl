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
