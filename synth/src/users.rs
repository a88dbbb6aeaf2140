//! The demo accounts: one per role, scoped to the first school, its province and district.

use oneclass_core::types::Role;
use rand::RngCore;
use uuid::Uuid;

use crate::names;
use crate::params::{DemoLogin, Ids, SeedParams, SynthError};
use crate::plan::School;

pub(crate) async fn seed_users(
    conn: &mut sqlx::PgConnection,
    ids: &mut Ids,
    p: &SeedParams,
    stamp: chrono::DateTime<chrono::Utc>,
    school: Option<&School>,
    first_school_classes: &[(Uuid, bool)],
) -> Result<Vec<DemoLogin>, SynthError> {
    let Some(school) = school else { return Ok(Vec::new()) };
    let place =
        sqlx::query!("SELECT province, district FROM platform.schools WHERE id = $1", school.id)
            .fetch_one(&mut *conn)
            .await?;
    let (province, district) = (place.province, place.district);
    let tag = school.emis.as_str();
    // (role, username, province scope, district scope, member of the first school)
    type Account<'a> = (Role, String, Option<&'a str>, Option<&'a str>, bool);
    let accounts: Vec<Account> = vec![
        (Role::PlatformAdmin, "admin".into(), None, None, false),
        (Role::Ministry, "ministry".into(), None, None, false),
        (Role::ProvinceOfficer, "officer.province".into(), Some(province.as_str()), None, false),
        (
            Role::DistrictOfficer,
            "officer.district".into(),
            Some(province.as_str()),
            Some(district.as_str()),
            false,
        ),
        (Role::Analyst, "analyst".into(), None, None, false),
        (Role::SchoolHead, format!("head.{tag}"), None, None, true),
        (Role::Registrar, format!("registrar.{tag}"), None, None, true),
        (Role::Teacher, format!("teacher.{tag}"), None, None, true),
        (Role::Bursar, format!("bursar.{tag}"), None, None, true),
        (Role::Deputy, format!("deputy.{tag}"), None, None, true),
    ];
    // One hash for all demo accounts: argon2 is slow by design, and they share a password. Its
    // salt comes from the seed so that the same seed gives the same rows.
    let mut salt = [0u8; 16];
    ids.rng.fill_bytes(&mut salt);
    let hash = oneclass_core::password::hash_with_salt(&p.demo_password, &salt)?;
    let scram = oneclass_core::password::scram_secret_with_salt(&p.demo_password, &salt);
    let mut logins = Vec::new();
    for (role, username, prov, dist, member) in accounts {
        let user_id = ids.next();
        sqlx::query!(
            "INSERT INTO platform.users (id, username, password_hash, role, display_name, province,
                 district, created_at, updated_at, scram_salt, scram_iterations,
                 scram_salted_password)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
            user_id,
            &username,
            &hash,
            role.as_str(),
            names::display_name(role),
            prov,
            dist,
            stamp,
            &scram.salt[..],
            scram.iterations as i32,
            &scram.salted_password[..],
        )
        .execute(&mut *conn)
        .await?;
        if member {
            sqlx::query!(
                "INSERT INTO platform.memberships (user_id, school_id, role, created_at)
                 VALUES ($1, $2, $3, $4)",
                user_id,
                school.id,
                role.as_str(),
                stamp,
            )
            .execute(&mut *conn)
            .await?;
        }
        if role == Role::Teacher {
            // The demo teacher teaches two classes that are assessed (marks and report cards
            // to show), or ECD classes where the school has no other.
            let mut taught: Vec<Uuid> = first_school_classes
                .iter()
                .filter(|(_, assessed)| *assessed)
                .map(|(id, _)| *id)
                .collect();
            taught.extend(first_school_classes.iter().filter(|(_, a)| !*a).map(|(id, _)| *id));
            for class_id in taught.iter().take(2) {
                sqlx::query!(
                    "INSERT INTO academic.class_teachers (class_id, user_id, school_id, created_at,
                         updated_at)
                     VALUES ($1, $2, $3, $4, $4)",
                    class_id,
                    user_id,
                    school.id,
                    stamp,
                )
                .execute(&mut *conn)
                .await?;
            }
        }
        logins.push(DemoLogin { role, username, password: p.demo_password.clone() });
    }
    // A parent: the guardian of the school's first learner, whose portal account signs in with
    // the phone as username.
    let parent = sqlx::query!(
        r#"SELECT g.id, g.phone AS "phone!", g.full_name FROM sis.guardians g
           JOIN sis.learner_guardians lg ON lg.guardian_id = g.id
           JOIN sis.learners l ON l.id = lg.learner_id
           WHERE l.school_id = $1 AND l.status = 'active' AND g.phone IS NOT NULL
           ORDER BY l.learner_number LIMIT 1"#,
        school.id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(parent) = parent {
        let user_id = ids.next();
        sqlx::query!(
            "INSERT INTO platform.users (id, username, password_hash, role, display_name, phone,
                 created_at, updated_at)
             VALUES ($1, $2, $3, 'parent', $4, $2, $5, $5)",
            user_id,
            &parent.phone,
            &hash,
            &parent.full_name,
            stamp,
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "UPDATE sis.guardians SET user_id = $1 WHERE phone = $2",
            user_id,
            &parent.phone
        )
        .execute(&mut *conn)
        .await?;
        logins.push(DemoLogin {
            role: Role::Parent,
            username: parent.phone,
            password: p.demo_password.clone(),
        });
    }
    Ok(logins)
}
