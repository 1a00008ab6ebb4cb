-- Switchboard for Neovim: see and steer the agents working on this repository.
-- `require('switchboard').setup{}`; then `:Switchboard`, `:Switchboard claim|release`,
-- `:SwitchboardSend`, `:SwitchboardReply`, `:SwitchboardInbox`, and
-- `require('switchboard').status()`.
local client = require("switchboard.client")
local view = require("switchboard.view")

local M = {}

local unread = 0

--- Starts the companion for buffers in git repositories.
--- Options: `cmd` (default `{ "switchboard", "lsp" }`), `autostart` (default true).
function M.setup(opts)
  opts = opts or {}
  if opts.cmd then
    client.config.cmd = opts.cmd
  end
  local group = vim.api.nvim_create_augroup("switchboard", { clear = true })
  if opts.autostart ~= false then
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(ev)
        if vim.bo[ev.buf].buftype == "" then
          client.start(ev.buf)
        end
      end,
    })
  end
  client.on_change(function()
    M.refresh_status()
  end)
end

--- Updates the unread count shown by `status()`.
function M.refresh_status()
  client.request("switchboard/state", {}, function(err, state)
    if not err and state then
      unread = view.unread(state)
      vim.schedule(function()
        vim.cmd("redrawstatus")
      end)
    end
  end)
end

--- A statusline component: "✉ 3" when there are unread messages, "" otherwise.
function M.status()
  return unread > 0 and ("✉ " .. unread) or ""
end

function M.toggle()
  require("switchboard.sidebar").toggle()
end

--- Sends `text` to recipients (names, human:<name>, @group, @role, @everyone).
function M.send(to, text)
  client.command("switchboard.send", { to = to, body = text })
end

--- Replies to a message in its thread.
function M.reply(message, text)
  client.command("switchboard.reply", { message = message, body = text })
end

--- Claims `patterns` (default: the current buffer's file, relative to its checkout) for
--- you. `opts`: `reason` (asked when absent), `shared`, `ttl` ("30m", "2h"…), `take_over`.
function M.claim(patterns, opts, on_done)
  require("switchboard.claims").claim(patterns, opts, on_done)
end

--- Releases your claims: ids (clm_…), patterns as claimed, or "all"; none: pick one.
function M.release(targets, on_done)
  require("switchboard.claims").release(targets, on_done)
end

--- Shows the inbox in a buffer.
function M.inbox()
  client.request("switchboard/inbox", { limit = 50 }, function(err, page)
    vim.schedule(function()
      if err then
        return vim.notify("switchboard: " .. err, vim.log.levels.ERROR)
      end
      local lines = { ("Inbox: %d unread"):format(page.unread), "" }
      for _, m in ipairs(page.messages) do
        local body = m.body ~= vim.NIL and m.body or "(deleted)"
        table.insert(lines, ("%s  %s [%s] %s"):format(m.id, m.sender, m.state ~= vim.NIL and m.state or "sent", body:gsub("\n", " ")))
      end
      local buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
      vim.bo[buf].modifiable = false
      vim.bo[buf].bufhidden = "wipe"
      vim.api.nvim_win_set_buf(0, buf)
    end)
  end)
end

return M
