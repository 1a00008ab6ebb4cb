-- The connection to `switchboard lsp`: starting it for buffers in a git repository,
-- requests and commands, and the `switchboard/stateChanged` listeners.
local M = {}

M.config = {
  -- The command that starts the companion.
  cmd = { "switchboard", "lsp" },
}

local listeners = {}

--- Calls `fn(params)` on every `switchboard/stateChanged` push.
function M.on_change(fn)
  table.insert(listeners, fn)
end

local function notify_listeners(_, params)
  for _, fn in ipairs(listeners) do
    local ok, err = pcall(fn, params)
    if not ok then
      vim.notify("switchboard: " .. tostring(err), vim.log.levels.ERROR)
    end
  end
end

--- The running companion client, if any.
function M.get()
  return vim.lsp.get_clients({ name = "switchboard" })[1]
end

--- Starts (or reuses) the companion for `bufnr` when it is inside a git repository.
--- Returns the client id, or nil outside a repository.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local root = vim.fs.root(bufnr, ".git") or vim.fs.root(vim.fn.getcwd(), ".git")
  if not root then
    return nil
  end
  return vim.lsp.start({
    name = "switchboard",
    cmd = M.config.cmd,
    cmd_cwd = root,
    root_dir = root,
    handlers = { ["switchboard/stateChanged"] = notify_listeners },
  }, { bufnr = bufnr })
end

--- Waits (up to `timeout` ms) for the client to be ready; returns it or nil.
function M.ready(timeout)
  local client
  vim.wait(timeout or 5000, function()
    client = M.get()
    return client ~= nil and client.initialized == true
  end, 20)
  return client
end

--- Sends a request and calls `cb(err, result)`. Errors become readable messages.
function M.request(method, params, cb)
  local client = M.get() or (M.start() and M.ready())
  if not client then
    cb("Switchboard is not running here: open a file inside a git repository", nil)
    return
  end
  client:request(method, params or {}, function(err, result)
    cb(err and (err.message or vim.inspect(err)) or nil, result)
  end)
end

--- Runs a `switchboard.…` command with one argument object.
function M.command(name, args, cb)
  M.request("workspace/executeCommand", { command = name, arguments = { args } }, cb or function(err)
    if err then
      vim.notify("switchboard: " .. err, vim.log.levels.ERROR)
    end
  end)
end

return M
