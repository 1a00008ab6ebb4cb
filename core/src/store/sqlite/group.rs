//! Groups and their members, in SQL.

use rusqlite::{OptionalExtension, named_params};

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
        let head = self
            .tx
            .prepare_cached(
                "SELECT name, description, created_by, created_at FROM groups WHERE name = ?1",
            )?
            .query_row([name], |r| {
                Ok(Group {
                    name: r.get(0)?,
                    description: r.get(1)?,
                    members: Vec::new(),
                    created_by: r.get(2)?,
                    created_at: Timestamp(r.get(3)?),
                })
            })
            .optional()?;
        let Some(mut group) = head else {
            return Ok(None);
        };
        let mut stmt = self.tx.prepare_cached(
            "SELECT member, kind FROM group_members WHERE group_name = ?1 ORDER BY kind, member",
        )?;
        group.members = stmt
            .query_map([name], |r| {
                let kind: String = r.get(1)?;
                Ok(Member {
                    name: r.get(0)?,
                    kind: if kind == "role" {
                        MemberKind::Role
                    } else {
                        MemberKind::Agent
                    },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(group))
    }

    fn group_names(&self) -> Result<Vec<String>> {
        let names = self
            .tx
            .prepare_cached("SELECT name FROM groups ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn insert_group(
        &self,
        name: &str,
        description: Option<&str>,
        created_by: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO groups (name, description, created_by, created_at) VALUES (:name, :description, :actor, :now)",
        )?
        .execute(named_params! {":name": name, ":description": description, ":actor": created_by, ":now": at.millis()})?;
        Ok(())
    }

    fn insert_group_member(&self, group: &str, member: &Member) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO group_members (group_name, member, kind) VALUES (?1, ?2, ?3)",
            )?
            .execute((group, &member.name, kind_str(member)))?;
        Ok(())
    }

    fn delete_group_member(&self, group: &str, member: &Member) -> Result<()> {
        self.tx
            .prepare_cached(
                "DELETE FROM group_members WHERE group_name = ?1 AND member = ?2 AND kind = ?3",
            )?
            .execute((group, &member.name, kind_str(member)))?;
        Ok(())
    }

    fn delete_group(&self, name: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM groups WHERE name = ?1")?
            .execute([name])?;
        Ok(())
    }
}
