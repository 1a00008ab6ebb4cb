-- User commands; the work happens in lua/switchboard/.
if vim.g.loaded_switchboard then
  return
end
vim.g.loaded_switchboard = true

vim.api.nvim_create_user_command("Switchboard", function()
  require("switchboard").toggle()
end, { desc = "Toggle the Switchboard sidebar" })

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
