//! Groups and their members, in SQL.

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::group::{Group, Member, MemberKind};
use crate::store::rows::GroupRows;

/// The stored `kind` of a member.
fn kind_str(member: &Member) -> &'static str {
    match member.kind {
        MemberKind::Agent => "agent",
        MemberKind::Role => "role",
    }
}

impl GroupRows for Tx<'_> {
    fn fetch_group(&self, name: &str) -> Result<Option<Group>> {
        let head = self.query_opt(
            "SELECT name, description, created_by, created_at FROM groups WHERE name = $1",
            &[&name],
        )?;
        let Some(head) = head else {
            return Ok(None);
        };
        // 'agent' sorts before 'role': agents first, then roles, each by name.
        let members = self.query(
            "SELECT member, kind FROM group_members WHERE group_name = $1 ORDER BY kind, member",
            &[&name],
        )?;
        Ok(Some(Group {
            name: head.get(0),
            description: head.get(1),
            members: members
                .iter()
                .map(|r| Member {
                    name: r.get(0),
                    kind: if r.get::<_, &str>(1) == "role" {
                        MemberKind::Role
                    } else {
                        MemberKind::Agent
                    },
                })
                .collect(),
            created_by: head.get(2),
            created_at: Timestamp(head.get(3)),
        }))
    }

    fn group_names(&self) -> Result<Vec<String>> {
        let rows = self.query("SELECT name FROM groups ORDER BY name", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn insert_group(
        &self,
        name: &str,
        description: Option<&str>,
        created_by: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO groups (name, description, created_by, created_at) VALUES ($1, $2, $3, $4)",
            &[&name, &description, &created_by, &at.millis()],
        )?;
        Ok(())
    }

    fn insert_group_member(&self, group: &str, member: &Member) -> Result<()> {
        self.execute(
            "INSERT INTO group_members (group_name, member, kind) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&group, &member.name, &kind_str(member)],
        )?;
        Ok(())
    }

    fn delete_group_member(&self, group: &str, member: &Member) -> Result<()> {
        self.execute(
            "DELETE FROM group_members WHERE group_name = $1 AND member = $2 AND kind = $3",
            &[&group, &member.name, &kind_str(member)],
        )?;
        Ok(())
    }

    fn delete_group(&self, name: &str) -> Result<()> {
        // Its members go with it (ON DELETE CASCADE).
        self.execute("DELETE FROM groups WHERE name = $1", &[&name])?;
        Ok(())
    }
}
