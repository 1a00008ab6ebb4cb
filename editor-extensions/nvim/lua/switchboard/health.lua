-- `:checkhealth switchboard`
local M = {}

function M.check()
  vim.health.start("switchboard")
  if vim.fn.has("nvim-0.10") == 1 then
    vim.health.ok("Neovim " .. tostring(vim.version()))
  else
    vim.health.error("Neovim 0.10 or newer is required")
  end
  local cmd = require("switchboard.client").config.cmd
  if vim.fn.executable(cmd[1]) == 1 then
    vim.health.ok(cmd[1] .. " found: " .. vim.fn.exepath(cmd[1]))
  else
    vim.health.error(cmd[1] .. " not found", { "Install it (cargo install --path . in the switchboard repository)", "or pass cmd = { '/path/to/switchboard', 'lsp' } to setup()" })
    return
  end
  local root = vim.fs.root(vim.fn.getcwd(), ".git")
  if not root then
    vim.health.warn("the current directory is not in a git repository; the companion starts for files inside one")
    return
  end
  local done = vim.system({ cmd[1], "lsp", "--check", "--json" }, { cwd = root, text = true }):wait(10000)
  if done.code == 0 then
    local ok, state = pcall(vim.json.decode, done.stdout)
    if ok then
      vim.health.ok(("state %s, acting as %s"):format(state.stateDb, state.human))
    else
      vim.health.error("`switchboard lsp --check` printed something unexpected", { done.stdout })
    end
  else
    vim.health.error("`switchboard lsp --check` failed: " .. (done.stderr or ""))
  end
  if require("switchboard.client").get() then
    vim.health.ok("the companion is running")
  else
    vim.health.info("the companion is not running yet (it starts for files inside a git repository)")
  end
end

return M
