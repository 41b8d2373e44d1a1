//! Access control of collections: who may read and who may write.
//!
//! Rules (DESIGN.md, rag contract): a caller reads a collection when it is an admin, a member
//! of the owner department, or listed in the collection's read access; it writes (ingest,
//! remove, delete) when it is an admin or a member of the owner department.

use serde::{Deserialize, Serialize};

use super::Collection;

/// Who is asking: built from the verified client certificate (`tls::PeerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// User id (certificate CN).
    pub user: String,
    /// Department (certificate OU/O); empty when none.
    pub department: String,
    /// Holds the admin role.
    pub admin: bool,
}

impl Caller {
    /// The local operator (`zonegate rag …` on the box): sees and changes everything.
    pub fn system() -> Caller {
        Caller { user: "system".into(), department: String::new(), admin: true }
    }

    /// From a verified client identity.
    pub fn from_identity(id: &crate::tls::PeerIdentity) -> Caller {
        Caller { user: id.user.clone(), department: id.department.clone(), admin: id.is_admin() }
    }

    /// Whether this caller may read the collection (see the module doc).
    pub fn may_read(&self, c: &Collection) -> bool {
        if self.may_write(c) {
            return true;
        }
        match &c.read {
            Access::Everyone => true,
            Access::Departments(d) => !self.department.is_empty() && d.iter().any(|x| x == &self.department),
            Access::Users(u) => u.iter().any(|x| x == &self.user),
        }
    }

    /// Whether this caller may change the collection: admin or owner department.
    pub fn may_write(&self, c: &Collection) -> bool {
        self.admin || (!self.department.is_empty() && self.department == c.owner_department)
    }
}

/// Read access of a collection beyond its owner department and admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "names")]
pub enum Access {
    /// Every authenticated caller.
    Everyone,
    /// Members of these departments.
    Departments(Vec<String>),
    /// These user ids.
    Users(Vec<String>),
}

impl Access {
    /// Parses the CLI form: `everyone`, `departments:A,B` or `users:u1,u2`
    /// (also the owner department only: `owner`, meaning an empty department list).
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(s: &str) -> Result<Access, String> {
        let list = |v: &str| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect::<Vec<_>>();
        match s.split_once(':') {
            None if s == "everyone" => Ok(Access::Everyone),
            None if s == "owner" => Ok(Access::Departments(Vec::new())),
            Some(("departments", v)) => Ok(Access::Departments(list(v))),
            Some(("users", v)) => Ok(Access::Users(list(v))),
            _ => Err(format!("--read {s:?}: use everyone, owner, departments:A,B or users:u1,u2")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DataClass;

    fn coll(read: Access) -> Collection {
        Collection {
            id: "vs_1".into(),
            name: "n".into(),
            class: DataClass::Internal,
            owner_department: "Bauamt".into(),
            read,
            created_at: 0,
            document_count: 0,
            chunk_count: 0,
            bytes: 0,
            embedding_model: None,
            embedding_sha256: None,
            dims: 0,
            total_words: 0,
            attributes: Default::default(),
        }
    }
    fn who(user: &str, dep: &str, admin: bool) -> Caller {
        Caller { user: user.into(), department: dep.into(), admin }
    }

    #[test]
    fn owner_department_admin_and_listed_readers() {
        let c = coll(Access::Departments(vec!["Ordnungsamt".into()]));
        assert!(who("a", "Bauamt", false).may_read(&c));
        assert!(who("a", "Bauamt", false).may_write(&c));
        assert!(who("b", "Ordnungsamt", false).may_read(&c));
        assert!(!who("b", "Ordnungsamt", false).may_write(&c));
        assert!(!who("c", "Sozialamt", false).may_read(&c));
        assert!(who("root", "", true).may_read(&c) && who("root", "", true).may_write(&c));
        // An empty department never matches an empty list entry or owner.
        assert!(!who("d", "", false).may_read(&coll(Access::Departments(vec![String::new()]))));
        let u = coll(Access::Users(vec!["erika".into()]));
        assert!(who("erika", "Sozialamt", false).may_read(&u));
        assert!(!who("max", "Sozialamt", false).may_read(&u));
        assert!(who("max", "Sozialamt", false).may_read(&coll(Access::Everyone)));
    }

    #[test]
    fn parses_cli_access() {
        assert_eq!(Access::parse("everyone"), Ok(Access::Everyone));
        assert_eq!(Access::parse("departments:A, B"), Ok(Access::Departments(vec!["A".into(), "B".into()])));
        assert_eq!(Access::parse("users:x"), Ok(Access::Users(vec!["x".into()])));
        assert!(Access::parse("all").is_err());
    }
}
