-- The `:Switchboard` sidebar: sessions, threads, worktrees and claims, refreshed live.
local client = require("switchboard.client")
local view = require("switchboard.view")

local M = { buf = nil, win = nil, items = {}, state = nil }

local function scratch(name, lines, filetype)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name .. " " .. buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = filetype or "switchboard"
  return buf
end

--- Shows `lines` in a read-only buffer in the window to the right of the sidebar.
local function show(name, lines, filetype)
  local buf = scratch(name, lines, filetype)
  vim.cmd("wincmd l")
  if vim.api.nvim_get_current_win() == M.win then
    vim.cmd("rightbelow vsplit")
  end
  vim.api.nvim_win_set_buf(0, buf)
  return buf
end

local function draw()
  if not (M.buf and vim.api.nvim_buf_is_valid(M.buf)) then
    return
  end
  local lines, items = { "Switchboard: loading…" }, { false }
  if M.state then
    lines, items = view.render(M.state)
  elseif M.error then
    lines = { "Switchboard: " .. M.error }
  end
  M.items = items
  vim.bo[M.buf].modifiable = true
  vim.api.nvim_buf_set_lines(M.buf, 0, -1, false, lines)
  vim.bo[M.buf].modifiable = false
end

--- Fetches the state and redraws.
function M.refresh()
  client.request("switchboard/state", {}, function(err, result)
    M.error, M.state = err, result or M.state
    vim.schedule(draw)
  end)
end

local function item_under_cursor()
  local line = vim.api.nvim_win_get_cursor(0)[1]
  return M.items[line] or nil
end

function M.open_item()
  local item = item_under_cursor()
  if not item then
    return
  end
  if item.kind == "thread" then
    M.open_thread(item.thread)
  elseif item.kind == "worktree" then
    M.show_diff(item.worktree.name)
  elseif item.kind == "session" and item.session.worktree ~= vim.NIL and item.session.worktree then
    M.show_diff(item.session.worktree.name)
  end
end

function M.open_thread(id)
  client.request("switchboard/thread", { thread = id }, function(err, result)
    vim.schedule(function()
      if err then
        return vim.notify("switchboard: " .. err, vim.log.levels.ERROR)
      end
      show("switchboard://thread", view.thread(result), "markdown")
      local unread = {}
      for _, m in ipairs(result.messages) do
        if m.state == "delivered" or m.state == "notified" then
          table.insert(unread, m.id)
        end
      end
      if #unread > 0 then
        client.command("switchboard.markRead", { ids = unread })
      end
    end)
  end)
end

function M.show_diff(name)
  client.command("switchboard.showDiff", { worktree = name }, function(err, result)
    vim.schedule(function()
      if err then
        return vim.notify("switchboard: " .. err, vim.log.levels.ERROR)
      end
      show("switchboard://diff", view.diff(result), "diff")
    end)
  end)
end

function M.reply()
  local item = item_under_cursor()
  if not (item and item.kind == "thread") then
    return vim.notify("switchboard: put the cursor on a thread to reply", vim.log.levels.WARN)
  end
  vim.ui.input({ prompt = "Reply: " }, function(text)
    if text and text ~= "" then
      client.command("switchboard.reply", { message = item.message.id, body = text })
    end
  end)
end

function M.message_agent()
  local item = item_under_cursor()
  local agent = item and (item.kind == "session" and item.session.agent or item.kind == "worktree" and item.worktree.agent or item.kind == "claim" and item.claim.agent)
  if not agent or agent == vim.NIL then
    return vim.notify("switchboard: put the cursor on a session, worktree or claim", vim.log.levels.WARN)
  end
  vim.ui.input({ prompt = "Message " .. agent .. ": " }, function(text)
    if text and text ~= "" then
      client.command("switchboard.send", { to = { agent }, body = text })
    end
  end)
end

function M.diff_under_cursor()
  local item = item_under_cursor()
  if item and item.kind == "worktree" then
    M.show_diff(item.worktree.name)
  elseif item and item.kind == "session" and item.session.worktree ~= vim.NIL and item.session.worktree then
    M.show_diff(item.session.worktree.name)
  else
    vim.notify("switchboard: no worktree under the cursor", vim.log.levels.WARN)
  end
end

--- Releases the claim under the cursor; someone else's (a person may release any claim)
--- only after asking, since its holder loses it (and is told).
function M.release_under_cursor()
  local item = item_under_cursor()
  if not (item and item.kind == "claim") then
    return vim.notify("switchboard: put the cursor on a claim to release it", vim.log.levels.WARN)
  end
  local c = item.claim
  if c.agent ~= item.human then
    local question = ("Release %s's claim of %s (%s)?"):format(c.agent, c.pattern, c.reason)
    if vim.fn.confirm(question, "&Release\n&Cancel", 2) ~= 1 then
      return
    end
  end
  require("switchboard.claims").release_one({ repo = item.repo, id = c.id })
end

function M.close()
  if M.win and vim.api.nvim_win_is_valid(M.win) then
    vim.api.nvim_win_close(M.win, true)
  end
  M.win, M.buf = nil, nil
end

--- Opens the sidebar, or closes it when open.
function M.toggle()
  if M.win and vim.api.nvim_win_is_valid(M.win) then
    return M.close()
  end
  client.start()
  M.buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(M.buf, "switchboard://sidebar")
  vim.bo[M.buf].filetype = "switchboard"
  vim.bo[M.buf].bufhidden = "wipe"
  vim.cmd("topleft vsplit")
  M.win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(M.win, M.buf)
  vim.api.nvim_win_set_width(M.win, 60)
  local map = function(lhs, fn)
    vim.keymap.set("n", lhs, fn, { buffer = M.buf, nowait = true, silent = true })
  end
  map("<CR>", M.open_item)
  map("r", M.reply)
  map("m", M.message_agent)
  map("d", M.diff_under_cursor)
  map("x", M.release_under_cursor)
  map("q", M.close)
  draw()
  M.refresh()
end

client.on_change(function()
  if M.buf and vim.api.nvim_buf_is_valid(M.buf) then
    M.refresh()
  end
end)

return M
