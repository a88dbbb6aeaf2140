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

## The report card
card-title = Report card · { $learner } · Term { $term } { $year }
card-sub = Report card, term { $term } of { $year } ({ $dates })
card-learner = Learner
card-learner-number = Learner number
card-class = Class
card-grades = Grades
card-learning-areas = Learning areas
card-none-marked = No assessment was marked this term.
card-learning-area = Learning area
card-assessments = Assessments
card-term-mark = Term mark %
card-grade = Grade
card-class-average = Class average %
card-position = Position
card-position-of = { $position } of { $of }
card-term-mark-note = A term mark is the weighted mean of the assessments sat; an assessment missed is left out, not counted as zero.
card-attendance = Attendance
card-days-marked = Days marked
card-present = Present
card-late = Late
card-absent = Absent
card-excused = Excused
card-class-teacher = Class teacher
card-head = Head
card-scale-g7 = Grade 7 units (1 best, 9 fail)
card-scale-o = O level (A best; C or better passes)
card-scale-a = A level (A 5 points … E 1; O and F fail)
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## The dashboards (officials, leaders and the public)
dash-dashboards = Dashboards
dash-index_intro = Figures from the school records of the current term, updated as schools mark them.
dash-attendance = Attendance
dash-attendance_summary = Share of daily marks that are present or late, this term.
dash-national = Zimbabwe
dash-breadcrumb = Breadcrumb
dash-province = Province
dash-district = District
dash-school = School
dash-sex = Sex
dash-female = Girls
dash-male = Boys
dash-learners = Learners
dash-marks = Marks
dash-rate = Attendance rate
dash-by_province = Attendance rate by province
dash-by_district = Attendance rate by district
dash-by_school = Attendance rate by school
dash-term = Term
dash-term_dates_to = to
dash-no_term = No school term has started yet.
dash-no_marks = No attendance has been marked this term in this area yet.
dash-suppressed_note = Groups with fewer than 5 learners are shown as <5 to protect their privacy; where a total would give them away, one more group is hidden (–).
dash-bad_request = That address is not valid
dash-forbidden = Not shown to you
dash-schools_signed_in = Schools' figures are shown to the officials of their area and to the schools' own staff, once signed in.
dash-sign_in = Sign in
dash-school_overview = School overview
dash-beside = Beside the district and the nation
dash-this_school = This school
dash-enrolment_heading = Enrolment by grade and sex
dash-enrolment_by_grade = Learners by grade
dash-grade = Grade
dash-total = Total
dash-attendance_by_class = Attendance by class
dash-attendance_weeks = Share of marks present or late, this term and in each of its latest weeks (by the week's Monday).
dash-class = Class
dash-subject = Subject
dash-mean_mark = Mean
dash-marks_by_subject = Term marks by subject: learners in each band of their mean mark
dash-need_attention = Learners who need attention
dash-need_attention_summary = By a rule anyone can check: chronic absence, falling marks, over-age for the grade, fees in arrears; each learner's reasons are shown.
dash-no_data = No figures yet.
dash-school_too_small = The area's pages do not show this school's figures (too few learners, or to protect a smaller school beside it), so its own tables are shown only to its staff.
dash-furthest = Schools furthest from this figure
dash-difference = Difference
dash-server_error = Something went wrong
dash-server_error_detail = The figures could not be loaded. Please try again in a moment.
dash-back_to_dashboards = Back to the dashboards
dash-invalid_parameter = The parameter is too long or contains characters that are not allowed
dash-indicators = Indicators
dash-indicators_summary = Pupil–teacher ratios, enrolment ratios, attendance and chronic absence by year, with the counts behind every figure.
dash-year = Year
dash-value = Value
dash-no_figures = No figures for this indicator in this area yet.
dash-how_computed = How it is computed
dash-download_csv = Download the table (CSV)
dash-unknown_indicator = There is no indicator of that name
dash-outlook = Outlook: learners at risk and projected enrolment
dash-outlook_summary = The early-warning model's learners at risk, and learners and teachers needed in the next five years.
dash-risk_heading = Learners at risk of dropping out or repeating this year
dash-risk_note = From the early-warning model's latest scores (docs/model-card.md). Expected: the sum of the learners' chances, the number expected to drop out or repeat if nothing is done. A score prompts a conversation at the school; it decides nothing.
dash-risk_expected = Expected
dash-risk_high = Chance of 30 % or more
dash-risk_scored = Scored on
dash-no_scores = No scores yet: the model is trained once the lake holds two school years.
dash-projection_heading = Enrolment, actual and projected
dash-projection_note = Census-day (1 March) enrolment, and the next years projected by the cohort-survival method (grade-progression ratios, ECD A following the four-year-olds), with the interval and the teachers needed at the target pupil–teacher ratio.
dash-primary = Primary (ECD–G7)
dash-secondary = Secondary (F1–F6)
dash-interval = Interval
dash-teachers_needed = Teachers needed
dash-actual = actual
dash-projected = projected
dash-no_projection = No projection yet: run oneclass predict project.

## Learning areas (subjects), by code
subject-ENG = English
subject-MAT = Mathematics
subject-SHO = Shona
subject-NDE = Ndebele
subject-SCI = Science and Technology
subject-SOC = Heritage–Social Studies
subject-AGR = Agriculture
subject-GEO = Geography
subject-HIS = History
subject-ACC = Accounts
subject-PHY = Physics
subject-CHE = Chemistry
subject-BIO = Biology
subject-ECO = Economics
subject-PEA = Physical Education and Arts
subject-ICT = Information and Communication Technology
subject-HER = Heritage Studies
subject-CS = Computer Science
subject-LIT = Literature in English

## The indicators: name, what the numerator and the denominator count, and the formula
ind-PTR-name = Pupil–teacher ratio
ind-PTR-numerator = Learners
ind-PTR-denominator = Teachers
ind-PTR-formula = Learners enrolled on the census date (the first Monday of March) ÷ teachers in post that day.
ind-PQTR-name = Pupil–trained-teacher ratio
ind-PQTR-numerator = Learners
ind-PQTR-denominator = Trained teachers
ind-PQTR-formula = Learners enrolled on the census date (the first Monday of March) ÷ trained teachers in post that day.
ind-ATTENDANCE_RATE-name = Attendance rate
ind-ATTENDANCE_RATE-numerator = Present or late
ind-ATTENDANCE_RATE-denominator = Marks
ind-ATTENDANCE_RATE-formula = Daily marks that are present or late ÷ all daily marks on school days of the year × 100.
ind-CHRONIC_ABSENCE_RATE-name = Chronic absence
ind-CHRONIC_ABSENCE_RATE-numerator = Chronically absent
ind-CHRONIC_ABSENCE_RATE-denominator = Learners with marks
ind-CHRONIC_ABSENCE_RATE-formula = Learners absent on at least 10 % of their marked school days ÷ learners with marks × 100.
ind-GER_PRIMARY-name = Gross enrolment ratio, primary
ind-GER_PRIMARY-numerator = Enrolled
ind-GER_PRIMARY-denominator = Population
ind-GER_PRIMARY-formula = Learners enrolled in G1–G7 on the census date, any age, ÷ the districts' projected population aged 6–12 × 100.
ind-NER_PRIMARY-name = Net enrolment rate, primary
ind-NER_PRIMARY-numerator = Enrolled
ind-NER_PRIMARY-denominator = Population
ind-NER_PRIMARY-formula = Learners aged 6–12 enrolled in G1–G7 on the census date ÷ the districts' projected population aged 6–12 × 100.
ind-GER_LOWER_SECONDARY-name = Gross enrolment ratio, lower secondary
ind-GER_LOWER_SECONDARY-numerator = Enrolled
ind-GER_LOWER_SECONDARY-denominator = Population
ind-GER_LOWER_SECONDARY-formula = Learners enrolled in F1–F4 on the census date, any age, ÷ the districts' projected population aged 13–16 × 100.
ind-NER_LOWER_SECONDARY-name = Net enrolment rate, lower secondary
ind-NER_LOWER_SECONDARY-numerator = Enrolled
ind-NER_LOWER_SECONDARY-denominator = Population
ind-NER_LOWER_SECONDARY-formula = Learners aged 13–16 enrolled in F1–F4 on the census date ÷ the districts' projected population aged 13–16 × 100.
ind-GER_UPPER_SECONDARY-name = Gross enrolment ratio, upper secondary
ind-GER_UPPER_SECONDARY-numerator = Enrolled
ind-GER_UPPER_SECONDARY-denominator = Population
ind-GER_UPPER_SECONDARY-formula = Learners enrolled in F5–F6 on the census date, any age, ÷ the districts' projected population aged 17–18 × 100.
ind-NER_UPPER_SECONDARY-name = Net enrolment rate, upper secondary
ind-NER_UPPER_SECONDARY-numerator = Enrolled
ind-NER_UPPER_SECONDARY-denominator = Population
ind-NER_UPPER_SECONDARY-formula = Learners aged 17–18 enrolled in F5–F6 on the census date ÷ the districts' projected population aged 17–18 × 100.
ind-GIR-name = Gross intake ratio, Grade 1
ind-GIR-numerator = New entrants
ind-GIR-denominator = Population aged 6
ind-GIR-formula = New entrants to G1 on the census date (new, or promoted from ECD B), any age ÷ the districts' projected population aged 6 × 100.
ind-REPETITION_RATE-name = Repetition rate
ind-REPETITION_RATE-numerator = Repeaters next year
ind-REPETITION_RATE-denominator = Enrolled
ind-REPETITION_RATE-formula = Learners repeating the grade the next year ÷ learners enrolled in the grade (census dates) × 100; all grades: the sums over grades.
ind-PROMOTION_RATE-name = Promotion rate
ind-PROMOTION_RATE-numerator = Promoted
ind-PROMOTION_RATE-denominator = Enrolled
ind-PROMOTION_RATE-formula = Learners in the next grade the next year, less its repeaters ÷ learners enrolled in the grade × 100.
ind-DROPOUT_RATE-name = Dropout rate
ind-DROPOUT_RATE-numerator = Left
ind-DROPOUT_RATE-denominator = Enrolled
ind-DROPOUT_RATE-formula = 100 − promotion rate − repetition rate: learners neither promoted nor repeating the next year ÷ learners enrolled × 100.
ind-TRANSITION_RATE-name = Transition to secondary
ind-TRANSITION_RATE-numerator = F1 new entrants
ind-TRANSITION_RATE-denominator = G7 leavers
ind-TRANSITION_RATE-formula = New entrants to F1 the next year ÷ (G7 learners less those repeating G7 the next year) × 100.
ind-G7_PASS_RATE-name = Grade 7 pass rate
ind-G7_PASS_RATE-numerator = Passed
ind-G7_PASS_RATE-denominator = Candidates
ind-G7_PASS_RATE-formula = Candidates whose aggregate (the units of their best four subjects, 1 best to 9 fail, a missing subject counted as 9) is within the pass threshold (24 unless the deployment sets another) ÷ candidates × 100.
ind-O_LEVEL_PASS_RATE-name = O-level pass rate
ind-O_LEVEL_PASS_RATE-numerator = Passed
ind-O_LEVEL_PASS_RATE-denominator = Candidates
ind-O_LEVEL_PASS_RATE-formula = Candidates with five or more subjects at C or better ÷ candidates × 100.
ind-BEAM_COVERAGE-name = BEAM coverage
ind-BEAM_COVERAGE-numerator = Supported
ind-BEAM_COVERAGE-denominator = Enrolled
ind-BEAM_COVERAGE-formula = Learners enrolled on the census date with a BEAM payment that year ÷ learners enrolled × 100.
ind-FEE_COLLECTION_RATE-name = Fee collection rate
ind-FEE_COLLECTION_RATE-numerator = Paid (USD)
ind-FEE_COLLECTION_RATE-denominator = Invoiced (USD)
ind-FEE_COLLECTION_RATE-formula = Fees paid against the year's invoices, in US dollars (ZiG payments at the rate recorded with them, BEAM's included) ÷ fees invoiced × 100. Invoices in ZiG are left out.
ind-GPI_GER_PRIMARY-name = Gender parity index, primary GER
ind-GPI_GER_PRIMARY-numerator = GER, girls
ind-GPI_GER_PRIMARY-denominator = GER, boys
ind-GPI_GER_PRIMARY-formula = r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).
ind-GPI_GER_LOWER_SECONDARY-name = Gender parity index, lower secondary GER
ind-GPI_GER_LOWER_SECONDARY-numerator = GER, girls
ind-GPI_GER_LOWER_SECONDARY-denominator = GER, boys
ind-GPI_GER_LOWER_SECONDARY-formula = r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).
ind-GPI_GER_UPPER_SECONDARY-name = Gender parity index, upper secondary GER
ind-GPI_GER_UPPER_SECONDARY-numerator = GER, girls
ind-GPI_GER_UPPER_SECONDARY-denominator = GER, boys
ind-GPI_GER_UPPER_SECONDARY-formula = r = GER of girls ÷ GER of boys; the index is r where r ≤ 1, else 2 − 1/r (1: parity; below 1: fewer girls).
ind-SURVIVAL_G7-name = Survival to Grade 7
ind-SURVIVAL_G7-numerator = Reaching G7
ind-SURVIVAL_G7-denominator = G1 entrants
ind-SURVIVAL_G7-formula = Of 1,000 pupils entering G1, those who reach G7 when each grade G1–G6 promotes, holds back and loses pupils at the year's rates, repeaters trying again at the same rates (the reconstructed cohort) × 100 ÷ 1,000.

## Messages
messages = Messages
messages-about = Messages: { $name }
no-messages = No messages yet.
messages-live = New messages appear here as they arrive.
your-message = Your message

## Text messages (SMS)
sms-sign-in-code = OneClass: your sign-in code is { $code }. It works once, for { $minutes } minutes. Do not share it.
sms-message-waiting = { $school }: a message about { $learner } is waiting for you on OneClass (/portal/).
sms-password-reset = OneClass: to choose a new password for { $username }, open { $link } within { $hours } hours. If you did not ask, ignore this message.
sms-invitation = OneClass: you are invited to join { $school } as { $role }. Open { $link } within { $days } days to choose your username and password.

## Why a learner needs attention
reason-chronic-absence = absent { $absent } of { $marks } marked days this term ({ $share } %)
reason-falling-marks = mean term mark fell from { $before } % to { $now } %
reason-over-age = aged { $age } in { $grade }, where the official age is { $official }
reason-arrears = nothing paid on fees due 30 days or more: { $owed }
reason-and = and

## The early-warning model on the attention list
risk-title = Learners the model ranks most at risk
risk-explained = The model (version { $version }, scored on { $day }) estimates each learner's chance of dropping out or repeating the grade this year from attendance, marks, age, fees and the school's context. The reasons are what raised the score most. A person decides what to do: record it below.
risk-none = No scores yet: the model has not scored this school.
risk-chance = Chance
risk-actions = What was done
risk-record = Record an action
risk-action = Action
risk-outcome = Outcome
risk-no-action = nothing recorded yet
risk-absent-last-10 = absent { $n } days in the last two weeks
risk-absent-share = absent on { $share } % of school days this year
risk-absent-4-weeks = absent on { $share } % of school days in the last four weeks
risk-absence-change = absence { $points } points above the year's rate in the last four weeks
risk-mark-this-year = mean mark { $mark } % this year
risk-mark-last-year = mean mark { $mark } % last year
risk-mark-change = mean term mark changed by { $points } points since the term before
risk-over-age = { $years } years above the official age of the grade
risk-repeater = repeating the grade this year
risk-transfer-in = joined the school this year
risk-unpaid-share = { $share } % of fees due not yet paid
risk-invoices-unpaid = { $n } invoices overdue with nothing paid
risk-beam = { $on ->
    [yes] on BEAM
   *[no] not on BEAM
}
risk-ovc = { $on ->
    [yes] recorded as an orphan or vulnerable child
   *[no] not recorded as an orphan or vulnerable child
}
risk-disability = { $on ->
    [yes] a disability is recorded
   *[no] no disability recorded
}
risk-rural = { $on ->
    [yes] a rural school
   *[no] an urban school
}
risk-secondary = { $on ->
    [yes] secondary school
   *[no] primary school
}
risk-school-absence = the school's learners absent on { $share } % of days this year
risk-grade = in { $grade }
risk-days-marked = { $n } school days marked this year
risk-no-marks = no marks recorded
risk-no-attendance = no attendance recorded
risk-no-fees = no fees due yet
