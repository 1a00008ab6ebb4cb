-- User commands; the work happens in lua/switchboard/.
if vim.g.loaded_switchboard then
  return
end
vim.g.loaded_switchboard = true

local usage = ":Switchboard [claim [--shared] [--ttl=2h] [--take-over] [PATTERN…] [-- REASON] | release [ID|PATTERN|all…]]"

local subcommands = {
  claim = function(fargs)
    local patterns, opts = require("switchboard.claims").parse_claim_args(fargs)
    if not patterns then
      return vim.notify(("switchboard: %s\nusage: %s"):format(opts, usage), vim.log.levels.ERROR)
    end
    require("switchboard").claim(patterns, opts)
  end,
  release = function(fargs)
    require("switchboard").release(fargs)
  end,
}

local function complete(arglead, cmdline)
  local words = vim.split(cmdline, "%s+", { trimempty = true })
  local typed = #words - (arglead ~= "" and 1 or 0)
  local candidates
  if typed <= 1 then
    candidates = vim.tbl_keys(subcommands)
    table.sort(candidates)
  elseif words[2] == "claim" then
    candidates = vim.list_extend({ "--shared", "--ttl=", "--take-over", "--" }, vim.fn.getcompletion(arglead, "file"))
  elseif words[2] == "release" then
    candidates = { "all" }
    local state = require("switchboard.sidebar").state
    for _, repo in ipairs((state and state.repos) or {}) do
      for _, c in ipairs(require("switchboard.view").own_claims(repo)) do
        table.insert(candidates, c.pattern)
      end
    end
  else
    return {}
  end
  return vim.tbl_filter(function(c)
    return vim.startswith(c, arglead)
  end, candidates)
end

vim.api.nvim_create_user_command("Switchboard", function(args)
  local sub = args.fargs[1]
  if not sub then
    return require("switchboard").toggle()
  end
  if not subcommands[sub] then
    return vim.notify("switchboard: no subcommand " .. sub .. "\nusage: " .. usage, vim.log.levels.ERROR)
  end
  subcommands[sub](vim.list_slice(args.fargs, 2))
end, { nargs = "*", complete = complete, desc = "Toggle the Switchboard sidebar; claim or release files" })

vim.api.nvim_create_user_command("SwitchboardSend", function(args)
  local to, text = args.fargs[1], table.concat(vim.list_slice(args.fargs, 2), " ")
  if not to or text == "" then
    return vim.notify("usage: :SwitchboardSend {recipient[,recipient…]} {message}", vim.log.levels.ERROR)
  end
  require("switchboard").send(vim.split(to, ","), text)
end, { nargs = "+", desc = "Send a Switchboard message" })

vim.api.nvim_create_user_command("SwitchboardReply", function(args)
  local message, text = args.fargs[1], table.concat(vim.list_slice(args.fargs, 2), " ")
  if not message or text == "" then
    return vim.notify("usage: :SwitchboardReply {message-id} {reply}", vim.log.levels.ERROR)
  end
  require("switchboard").reply(message, text)
end, { nargs = "+", desc = "Reply to a Switchboard message" })

vim.api.nvim_create_user_command("SwitchboardInbox", function()
  require("switchboard").inbox()
end, { desc = "Show your Switchboard inbox" })
