//! Typed ids: a school's id is not a learner's, and the compiler says so. Each is a UUIDv7
//! made by the application (index locality), carried as a UUID in JSON, PostgreSQL and OpenAPI.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Defines an id newtype over a UUID: serde and sqlx see the UUID itself.
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ToSchema, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id (UUIDv7: ordered by creation time).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )+};
}

id_type!(
    /// `platform.schools.id`.
    SchoolId,
    /// `sis.learners.id`.
    LearnerId,
    /// `sis.enrolments.id`.
    EnrolmentId,
    /// `academic.classes.id`.
    ClassId,
    /// `platform.users.id`: staff, officials, analysts and parents alike.
    UserId,
    /// `platform.sessions.id`: one sign-in, named by its tokens.
    SessionId,
    /// `platform.invitations.id`.
    InvitationId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_plain_uuids() {
        let id = SchoolId::new();
        let json = serde_json::to_string(&id).expect("json");
        assert_eq!(json, format!("\"{}\"", id.as_uuid()));
        let back: SchoolId = serde_json::from_str(&json).expect("back");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<LearnerId>("\"not-a-uuid\"").is_err());
        assert_eq!(id.to_string().parse::<SchoolId>().expect("parse"), id);
        assert!(LearnerId::new() < LearnerId::new(), "v7 ids are ordered");
    }
}
