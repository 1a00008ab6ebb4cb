-- Turning the companion's state into lines of text: sessions as a tree, threads with
-- unread counts, worktrees with status, file claims. Pure functions (tested without an
-- editor).
local M = {}

local marks = { active = "●", stale = "◌", completed = "✓", failed = "✗", abandoned = "–" }

local function one_line(text, width)
  text = (text or ""):gsub("%s+", " ")
  if #text > width then
    return text:sub(1, width - 1) .. "…"
  end
  return text
end

--- Lines for the session trees; `items[i]` describes line i.
local function sessions(nodes, lines, items, depth)
  for _, node in ipairs(nodes) do
    local s = node.session
    local fork = s.forked_from ~= vim.NIL and s.forked_from ~= nil and "⑂ " or ""
    local where = (s.worktree ~= vim.NIL and s.worktree) and (" [" .. s.worktree.name .. "]") or ""
    table.insert(lines, string.rep("  ", depth + 1) .. fork .. (marks[s.status] or "?") .. " " .. s.agent .. where .. " — " .. one_line(s.intent, 60))
    table.insert(items, { kind = "session", session = s })
    sessions(node.children or {}, lines, items, depth + 1)
  end
end

--- Threads of the recent messages, newest first, with unread counts and top priority.
function M.threads(messages)
  local order, by_id = {}, {}
  local rank = { low = 0, normal = 1, high = 2, urgent = 3 }
  for _, m in ipairs(messages or {}) do
    local t = by_id[m.thread]
    if not t then
      t = { id = m.thread, subject = m.subject ~= vim.NIL and m.subject or nil, first = m, unread = 0, priority = "normal", from = {} }
      by_id[m.thread] = t
      table.insert(order, t)
    end
    if m.state == "delivered" or m.state == "notified" then
      t.unread = t.unread + 1
    end
    if (rank[m.priority] or 1) > (rank[t.priority] or 1) then
      t.priority = m.priority
    end
    t.from[m.sender] = true
  end
  return order
end

--- Seconds since the epoch of an RFC 3339 UTC time ("2026-11-30T14:05:00Z"), or nil.
function M.epoch(iso)
  local y, mo, d, h, mi, s = tostring(iso or ""):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  if not y then
    return nil
  end
  -- os.time reads the fields as local time: add back the local offset at that moment.
  local t = os.time({ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h), min = tonumber(mi), sec = tonumber(s), isdst = false })
  return t + (t - os.time(os.date("!*t", t)))
end

--- "until 14:05" in local time; with the date when it is not on the day of `now`.
function M.until_text(iso, now)
  local t = M.epoch(iso)
  if not t then
    return "until " .. tostring(iso)
  end
  if os.date("%Y-%m-%d", t) == os.date("%Y-%m-%d", now or os.time()) then
    return "until " .. os.date("%H:%M", t)
  end
  return "until " .. os.date("%Y-%m-%d %H:%M", t)
end

--- One line for a claim: "src/**  claude  until 14:05  refactoring auth [shared] [stale]".
function M.claim(c, now)
  local tags = (c.mode == "shared" and " [shared]" or "") .. (c.state == "stale" and " [stale]" or "")
  return ("%s  %s  %s  %s%s"):format(c.pattern, c.agent, M.until_text(c.expires_at, now), one_line(c.reason, 60), tags)
end

--- The claims the human at the editor holds in `repo` (a `switchboard/state` repository).
function M.own_claims(repo)
  local own = {}
  for _, c in ipairs(repo.claims or {}) do
    if c.agent == repo.human then
      table.insert(own, c)
    end
  end
  return own
end

--- Renders the sections of `state` (a `switchboard/state` result); returns the lines
--- and, per line, the item it shows (or false for headings). `now` (seconds since the
--- epoch, default now) decides when an expiry needs its date.
function M.render(state, now)
  local lines, items = {}, {}
  local function heading(text)
    table.insert(lines, text)
    table.insert(items, false)
  end
  for _, repo in ipairs(state.repos or {}) do
    heading("Switchboard — " .. repo.human .. " — " .. repo.root)
    heading("")
    heading("Sessions")
    if #repo.sessions == 0 then
      heading("  (none)")
    end
    sessions(repo.sessions, lines, items, 0)
    heading("")
    heading(("Messages (%d unread)"):format(repo.inbox.unread))
    local threads = M.threads(repo.inbox.recent)
    if #threads == 0 then
      heading("  (none)")
    end
    for _, t in ipairs(threads) do
      local count = t.unread > 0 and ("(" .. t.unread .. ") ") or ""
      local priority = t.priority ~= "normal" and ("[" .. t.priority .. "] ") or ""
      local title = t.subject or one_line(t.first.body ~= vim.NIL and t.first.body or "(deleted)", 50)
      table.insert(lines, "  " .. count .. priority .. t.first.sender .. ": " .. title)
      table.insert(items, { kind = "thread", thread = t.id, message = t.first })
    end
    if repo.overdue and #repo.overdue > 0 then
      heading("")
      heading("Left unread by agents")
      for _, o in ipairs(repo.overdue) do
        local priority = o.priority ~= "normal" and (" [" .. o.priority .. "]") or ""
        heading(("  ! %s has not read %s's%s %s since %s"):format(o.recipient, o.sender, priority, one_line(o.about, 50), o.delivered_at))
      end
    end
    heading("")
    heading("Worktrees")
    if #repo.worktrees == 0 then
      heading("  (none)")
    end
    for _, w in ipairs(repo.worktrees) do
      local wt = w.worktree
      local status = w.exists and ("+%d -%d %d dirty"):format(w.ahead, w.behind, w.dirty) or "missing"
      local agent = wt.agent ~= vim.NIL and wt.agent or ""
      table.insert(lines, ("  %s  %s  %s  %s"):format(wt.name, wt.branch, status, agent))
      table.insert(items, { kind = "worktree", worktree = wt })
    end
    -- A companion without claims sends none: the section is left out then.
    if repo.claims then
      heading("")
      heading("Claims")
      if #repo.claims == 0 then
        heading("  (none)")
      end
      for _, c in ipairs(repo.claims) do
        table.insert(lines, "  " .. M.claim(c, now))
        table.insert(items, { kind = "claim", claim = c, repo = repo.root, human = repo.human })
      end
    end
  end
  return lines, items
end

--- The unread count across repositories.
function M.unread(state)
  local n = 0
  for _, repo in ipairs((state and state.repos) or {}) do
    n = n + repo.inbox.unread
  end
  return n
end

--- Lines showing a thread (a `switchboard/thread` result).
function M.thread(t)
  local lines = { "Thread " .. t.id .. " — " .. (t.subject ~= vim.NIL and t.subject or "(no subject)"), "participants: " .. table.concat(t.participants, ", "), "" }
  for _, m in ipairs(t.messages) do
    table.insert(lines, ("%s → %s  %s  [%s]"):format(m.sender, table.concat(m.to, ", "), m.sent_at, m.state ~= vim.NIL and m.state or "sent"))
    local body = m.body ~= vim.NIL and m.body or "(deleted)"
    for _, l in ipairs(vim.split(body, "\n")) do
      table.insert(lines, "    " .. l)
    end
    table.insert(lines, "")
  end
  return lines
end

--- Lines showing a worktree diff (a `switchboard/worktree` or `switchboard.showDiff` result).
function M.diff(d)
  local lines = { ("%s (%s) against %s"):format(d.worktree.name, d.worktree.branch, d.merge_base:sub(1, 10)) }
  for _, f in ipairs(d.changed) do
    table.insert(lines, ("  %s +%d -%d%s"):format(f.path, f.added, f.removed, f.uncommitted and " (uncommitted)" or ""))
  end
  if d.patch ~= vim.NIL and d.patch then
    vim.list_extend(lines, vim.split(d.patch, "\n"))
  end
  return lines
end

return M
