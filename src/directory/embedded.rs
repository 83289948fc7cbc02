//! A fixed list of departments, for trying the service out or for small tenants.

use std::collections::HashSet;

use async_trait::async_trait;

use super::{Directory, DirectoryError};
use crate::policy::Membership;

/// A fixed list of departments.
pub struct EmbeddedDirectory {
    departments: HashSet<String>,
}

impl EmbeddedDirectory {
    pub fn new(departments: impl IntoIterator<Item = String>) -> Self {
        EmbeddedDirectory {
            departments: departments.into_iter().collect(),
        }
    }
}

#[async_trait]
impl Directory for EmbeddedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        Ok(if self.departments.contains(department) {
            Membership::Known
        } else {
            Membership::Unknown
        })
    }

    fn describe(&self) -> String {
        let mut list: Vec<&str> = self.departments.iter().map(String::as_str).collect();
        list.sort_unstable();
        format!("embedded department list ({})", list.join(", "))
    }
}
