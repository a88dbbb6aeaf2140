# OneClass: the words of the staff pages and the parents' portal, in English.
# Each line is `key = text`; `{ $name }` is filled in by the page. Keep the keys; translate the
# text. The same keys are in sn.ftl (Shona) and nd.ftl (Ndebele).

## Every page
language = Language
sign-out = Sign out
sign-in = Sign in
home = Home
password = Password
save = Save

## Staff sign-in
username = Username
dashboards-no-sign-in = Officials' dashboards need no sign-in:
wrong-username-or-password = Wrong username or password.
too-many-attempts = Too many attempts: wait a few minutes and try again.

## The staff landing page
find-learner-label = Find a learner (name or number)
find = Find
task-admit = Admit a learner
task-announce = Send an announcement
task-attention = Learners who need attention
task-catalog = What you can query (SQL catalog)
task-dashboards = Dashboards
my-classes = My classes
class = Class
grade = Grade
year = Year
register = Register
marks = Marks
no-classes = You have no classes to mark.
announcements = Announcements
to-audience = to { $audience }
audience-school = the whole school
audience-grade = grade { $grade }
audience-class = class { $class }
audience-class-parents = parents of { $class }

## The register
register-for = Register for { $date }
register-saved = Saved: { $count } mark(s) recorded or changed.
day = Day
show = Show
learner = Learner
mark = Mark
status-present = present
status-absent = absent
status-late = late
status-excused = excused
save-register = Save register

## The parents' portal
parents = Parents
portal-code-sent = If { $phone } is a guardian's number at a school on OneClass, a code is on its way by SMS.
portal-code = The six-digit code
portal-phone = Your phone number (as the school has it)
portal-send-code = Send me a code
portal-with-password = With a password
phone-number = Phone number
portal-staff = School staff:
portal-staff-sign-in = staff sign-in
portal-not-a-phone = That is not a Zimbabwe phone number (077 123 4567).
portal-too-many-codes = Too many codes asked for: wait a few minutes and try again.
portal-code-format = The code is the six digits in the SMS.
portal-wrong-code = Wrong or expired code: try again, or ask for a new one.
portal-too-many-tries = Too many tries: wait a few minutes.
portal-wrong-password = Wrong phone number or password.
my-children = My children
portal-no-children = No learner is linked to your phone number. Ask the school office.
attendance-30-days = Attendance, last 30 days:
no-register-yet = no register yet
fees-owed = Fees owed:
from-the-school = From the school
set-a-password = Set a password
attendance = Attendance
no-register-30-days = No register in the last 30 days.
present-days = Present on { $present } of { $days } school days in the last 30 days.
marks-this-year = Marks this year
no-marks-yet = No marks yet.
subject = Subject
assessment = Assessment
score = Score
term-n = term { $term }
report-cards = Report cards
term-of-year = Term { $term }, { $year }
fees = Fees
owed = Owed:
pay-towards = Pay towards
amount = Amount
pay-with-paynow = Pay with Paynow (EcoCash, card)
paynow-not-set-up = Paying online is not set up for this school: pay at the school office.
password-saved = Saved. Next time, sign in with your phone number and this password.
new-password = New password (at least 10 characters)

## Marks and mark sheets
marks-of = Marks: { $class }
no-assessment = No assessment yet.
term = Term
out-of = Out of
new-assessment = New assessment
learning-area = Learning area
assessment-name = Name
set-assessment = Set the assessment
sheet-detail = { $subject }, { $class }, out of { $max }
marks-saved = Saved: { $count } mark(s) recorded or changed.
save-marks = Save marks

## Learners
learners-matching = Learners: { $q }
no-learner-matches = No learner matches “{ $q }”.
number = Number
status = Status
more-learners = More learners match: type more of the name.
payment-recorded = Payment recorded: receipt No. { $receipt }.
born = born { $date }
guardians = Guardians
no-guardian = No guardian recorded.
no-invoice = No invoice.
currency = Currency
invoiced = Invoiced
paid = Paid
owed-column = Owed
invoice = Invoice
exchange-rate = ZiG per US dollar today (only when paying in the other currency)
method = Method
reference = Reference (EcoCash or bank)
record-payment = Record payment

## Admission
first-name = First name
surname = Surname
sex = Sex
date-of-birth = Date of birth
learner-number = Learner number
beam-pays = BEAM pays the fees
ovc = Orphan or vulnerable child
first-guardian = First guardian
full-name = Full name
phone = Phone
relationship = Relationship
admit = Admit

## Announcements
announce-sent = Sent.
announce-sent-sms = Sent, with { $count } SMS message(s) queued for guardians.
to = To
title = Title
message = Message
also-sms = Also by SMS to the guardians
send = Send
sent = Sent
choice-school = The whole school
choice-grade = Grade { $grade }
choice-class = Class { $class }
choice-parents = Parents of { $class }

## Attention and the catalog
attention-informs = A person decides what to do; the list only informs.
no-learner-meets-rule = No learner meets the rule today.
reasons = Reasons
catalog-heading = What you can query
catalog-intro = Every table and column your SQL may read (POST /api/v1/sql, or psql on the SQL port), with what it means. Learner ids are pseudonyms; names and ID numbers are not here.
column = Column
type = Type
meaning = Meaning
