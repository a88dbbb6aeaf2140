-- Staff establishment and population: the denominators of pupil–teacher ratios (teachers by
-- qualification, ED 46) and of enrolment ratios (population by district, single age and sex).

CREATE TABLE staff.staff (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  sex            text NOT NULL CHECK (sex IN ('F', 'M')),
  post           text NOT NULL CHECK (post IN ('head', 'deputy', 'teacher', 'ecd_teacher', 'bursar',
                   'clerk', 'ancillary')),
  -- A teaching qualification: recorded for teaching posts, meaningless for the others.
  qualification  text CHECK (qualification IN ('trained', 'untrained')),
  start_date     date NOT NULL,
  end_date       date CHECK (end_date IS NULL OR end_date >= start_date),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  CHECK ((qualification IS NULL) = (post IN ('bursar', 'clerk', 'ancillary')))
);
CREATE INDEX staff_school ON staff.staff (school_id) WHERE end_date IS NULL;
SELECT platform.make_school_owned('staff.staff');

-- Population by education district, completed age on 1 January of `year`, and sex: reference
-- data (projections), the same for every area.
CREATE TABLE ref.population (
  year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  district    text NOT NULL,
  age         integer NOT NULL CHECK (age BETWEEN 0 AND 120),
  sex         text NOT NULL CHECK (sex IN ('F', 'M')),
  population  integer NOT NULL CHECK (population >= 0),
  PRIMARY KEY (year, district, age, sex)
);
GRANT SELECT ON ref.population TO oneclass_app, oneclass_cdc;

ALTER PUBLICATION oneclass_lake ADD TABLE staff.staff, ref.population;
