-- The early-warning model's highest scores at one school: $1 school id, $2 how many. Read by the
-- head's attention list, which names the learners under the reader's row-level security.
SELECT learner_id, grade, score, rank_in_school, reasons, as_of, model_version
FROM gold.predict.scores
WHERE school_id = $1 AND rank_in_school <= $2
ORDER BY rank_in_school
