//! Guardians: one per learner (a mother, father, grandparent or aunt, with the learner's
//! surname), each with a distinct `+26377…` phone (ten million numbers, enough for a nation),
//! written in two statements after the bulk load. Ids and names follow from the learner's id, so
//! the same seed gives the same rows.

use crate::params::SynthError;

/// Writes the guardians and their links; returns how many rows were written.
pub(crate) async fn seed_guardians(
    conn: &mut sqlx::PgConnection,
    stamp: chrono::DateTime<chrono::Utc>,
) -> Result<u64, SynthError> {
    // The relationship, then the given name by the guardian's sex, follow from a hash of the
    // learner's id; the phone from the learner's place in (school, learner number) order.
    let guardians = sqlx::query!(
        r#"INSERT INTO sis.guardians (id, school_id, full_name, phone, created_at, updated_at)
           SELECT md5(l.id::text || ':guardian')::uuid, l.school_id,
                  CASE WHEN l.h % 20 < 12 OR l.h % 20 = 19
                       THEN (ARRAY['Rudo', 'Chipo', 'Tsitsi', 'Nyasha', 'Ruvimbo', 'Thandiwe',
                                   'Nomsa', 'Fadzai', 'Sibongile', 'Tariro'])[1 + l.h / 20 % 10]
                       ELSE (ARRAY['Tendai', 'Tafadzwa', 'Farai', 'Blessing', 'Sipho', 'Kudakwashe',
                                   'Themba', 'Tinashe', 'Simbarashe', 'Mandla'])[1 + l.h / 20 % 10]
                  END || ' ' || l.last_name,
                  '+26377' || lpad(l.n::text, 7, '0'), $1, $1
           FROM (SELECT id, school_id, last_name, abs(hashtext(id::text)) AS h,
                        row_number() OVER (ORDER BY school_id, learner_number) AS n
                 FROM sis.learners) l"#,
        stamp,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let links = sqlx::query!(
        r#"INSERT INTO sis.learner_guardians (learner_id, guardian_id, school_id, relationship,
               may_collect, pays_fees, is_primary, created_at, updated_at)
           SELECT l.id, md5(l.id::text || ':guardian')::uuid, l.school_id,
                  CASE WHEN abs(hashtext(l.id::text)) % 20 < 12 THEN 'mother'
                       WHEN abs(hashtext(l.id::text)) % 20 < 17 THEN 'father'
                       WHEN abs(hashtext(l.id::text)) % 20 < 19 THEN 'grandparent'
                       ELSE 'aunt' END,
                  true, true, true, $1, $1
           FROM sis.learners l"#,
        stamp,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(guardians + links)
}
