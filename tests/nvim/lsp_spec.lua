-- The companion in a real Neovim: started with vim.lsp.start, it pushes
-- switchboard/stateChanged, answers switchboard/state and publishes the diagnostic.
-- The Rust test prepares the repository and passes it in SB_REPO, the binary in SB_BIN.

local bin = assert(os.getenv("SB_BIN"), "SB_BIN is not set")
local repo = assert(os.getenv("SB_REPO"), "SB_REPO is not set")
local human = assert(os.getenv("SB_HUMAN"), "SB_HUMAN is not set")

describe("switchboard lsp in Neovim", function()
  local pushes = {}
  local client_id

  setup(function()
    vim.cmd("edit " .. vim.fn.fnameescape(repo .. "/app.rs"))
    client_id = vim.lsp.start({
      name = "switchboard",
      cmd = { bin, "lsp" },
      cmd_cwd = repo,
      root_dir = repo,
      handlers = {
        ["switchboard/stateChanged"] = function(_, params)
          table.insert(pushes, params)
        end,
      },
    })
  end)

  teardown(function()
    if client_id then
      vim.lsp.stop_client(client_id, true)
    end
  end)

  it("starts and attaches to the buffer", function()
    assert.is_not_nil(client_id)
    assert.is_true(vim.wait(10000, function()
      local client = vim.lsp.get_client_by_id(client_id)
      return client ~= nil and client.initialized == true
    end, 20))
  end)

  it("answers the custom state request", function()
    local client = vim.lsp.get_client_by_id(client_id)
    local response = client:request_sync("switchboard/state", {}, 10000, 0)
    assert.is_not_nil(response)
    assert.is_nil(response.err)
    local state = response.result.repos[1]
    assert.are.equal(human, state.human)
    assert.are.equal("claude", state.sessions[1].session.agent)
  end)

  it("shows who else is changing the open file", function()
    assert.is_true(vim.wait(10000, function()
      return #vim.diagnostic.get(0) > 0
    end, 20))
    local diagnostic = vim.diagnostic.get(0)[1]
    assert.are.equal("also changed by claude in cl (+1 −1, uncommitted)", diagnostic.message)
    assert.are.equal(vim.diagnostic.severity.INFO, diagnostic.severity)
  end)

  it("receives stateChanged when another process writes", function()
    local done = vim.system({ bin, "send", "--as", "claude", "--to", human, "hello from another process" }, { cwd = repo }):wait()
    assert.are.equal(0, done.code, done.stderr)
    assert.is_true(vim.wait(10000, function()
      for _, push in ipairs(pushes) do
        if vim.tbl_contains(push.changed, "messages") then
          return true
        end
      end
      return false
    end, 20))
  end)
end)
