-- The plugin in a real Neovim against a real companion. The Rust test prepares the
-- repository (a live session with a worktree, a message to the human) and passes
-- SB_BIN, SB_REPO and SB_HUMAN.
local bin = assert(os.getenv("SB_BIN"))
local repo = assert(os.getenv("SB_REPO"))
local human = assert(os.getenv("SB_HUMAN"))

local function sidebar_text()
  local sidebar = require("switchboard.sidebar")
  if not (sidebar.buf and vim.api.nvim_buf_is_valid(sidebar.buf)) then
    return ""
  end
  return table.concat(vim.api.nvim_buf_get_lines(sidebar.buf, 0, -1, false), "\n")
end

local function wait_for_text(fn, needle)
  local ok = vim.wait(10000, function()
    return fn():find(needle, 1, true) ~= nil
  end, 20)
  assert(ok, ("timed out waiting for %q in:\n%s"):format(needle, fn()))
end

describe("the Neovim plugin", function()
  setup(function()
    require("switchboard").setup({ cmd = { bin, "lsp" } })
    vim.cmd("edit " .. vim.fn.fnameescape(repo .. "/app.rs"))
  end)

  it("starts the companion for a buffer in the repository", function()
    assert.is_not_nil(require("switchboard.client").ready(10000))
  end)

  it(":Switchboard renders sessions, threads and worktrees from real state", function()
    vim.cmd("Switchboard")
    wait_for_text(sidebar_text, "Sessions")
    wait_for_text(sidebar_text, "● claude [cl] — edit app.rs")
    wait_for_text(sidebar_text, "Messages (1 unread)")
    wait_for_text(sidebar_text, "(1) claude: Which database?")
    wait_for_text(sidebar_text, "Worktrees")
    wait_for_text(sidebar_text, "cl  sb/cl")
  end)

  it("refreshes live when another process sends a message", function()
    local done = vim.system({ bin, "send", "--as", "claude", "--to", human, "--subject", "Second question", "and another thing" }, { cwd = repo }):wait()
    assert.are.equal(0, done.code, done.stderr)
    wait_for_text(sidebar_text, "Messages (2 unread)")
    wait_for_text(sidebar_text, "Second question")
  end)

  it("shows the unread count in the statusline component", function()
    require("switchboard").refresh_status()
    assert.is_true(vim.wait(5000, function()
      return require("switchboard").status() == "✉ 2"
    end, 20), require("switchboard").status())
  end)

  it("<CR> on a thread opens it and marks it read", function()
    local sidebar = require("switchboard.sidebar")
    vim.api.nvim_set_current_win(sidebar.win)
    local lines = vim.api.nvim_buf_get_lines(sidebar.buf, 0, -1, false)
    local row
    for i, line in ipairs(lines) do
      if line:find("Which database?", 1, true) then
        row = i
      end
    end
    assert.is_not_nil(row)
    vim.api.nvim_win_set_cursor(sidebar.win, { row, 0 })
    vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)
    local opened = vim.wait(10000, function()
      return vim.api.nvim_buf_get_name(0):find("switchboard://thread", 1, true) ~= nil
    end, 20)
    assert.is_true(opened, vim.api.nvim_buf_get_name(0))
    local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
    assert.is_truthy(text:find("Postgres or SQLite?", 1, true), text)
    wait_for_text(sidebar_text, "Messages (1 unread)")
  end)

  it(":checkhealth switchboard passes", function()
    vim.cmd("cd " .. vim.fn.fnameescape(repo))
    vim.cmd("checkhealth switchboard")
    local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
    assert.is_truthy(report:find("OK", 1, true), report)
    assert.is_falsy(report:find("ERROR", 1, true), report)
    assert.is_truthy(report:find("acting as " .. human, 1, true), report)
  end)
  it("lists mail agents have left unread too long", function()
    local view = require("switchboard.view")
    local lines = view.render({ repos = { {
      human = "human:ada", root = "/r", sessions = {}, worktrees = {},
      inbox = { unread = 0, recent = {} },
      overdue = { { id = "msg_1", thread = "thr_1", sender = "lead", recipient = "worker", about = "rebase please", priority = "urgent", delivered_at = "2026-11-30T08:00:00Z" } },
    } } })
    local text = table.concat(lines, "\n")
    assert.truthy(text:find("Left unread by agents", 1, true), text)
    assert.truthy(text:find("! worker has not read lead's [urgent] rebase please", 1, true), text)
  end)
end)
