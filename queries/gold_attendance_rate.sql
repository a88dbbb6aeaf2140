-- ATTENDANCE_RATE (INDICATORS.md): present + late marks ÷ all marks on school days, per school,
-- year and sex. School days are the days inside the year's terms (`ref.terms`); a mark outside
-- them (a holiday) does not count. Rows for F and M; the builder adds T.
SELECT 'ATTENDANCE_RATE' AS indicator, t.academic_year AS year, m.school_id,
       CAST(NULL AS VARCHAR) AS district, CAST(NULL AS VARCHAR) AS grade, l.sex,
       CAST(sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS DOUBLE) AS numerator,
       CAST(count(*) AS DOUBLE) AS denominator
FROM silver.attendance.daily_marks m
JOIN silver.ref.terms t ON m.date BETWEEN t.start_date AND t.end_date
JOIN silver.sis.learners l ON l.id = m.learner_id
GROUP BY t.academic_year, m.school_id, l.sex
