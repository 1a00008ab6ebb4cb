-- The plugin in a real Neovim against a real companion. The Rust test prepares the
-- repository (a live session with a worktree, a message to the human, a claim of src/**
-- by claude: "refactoring auth") and passes SB_BIN, SB_REPO and SB_HUMAN.
local bin = assert(os.getenv("SB_BIN"))
local repo = assert(os.getenv("SB_REPO"))
local human = assert(os.getenv("SB_HUMAN"))

local function sidebar_text()
  local sidebar = require("switchboard.sidebar")
  if not (sidebar.buf and vim.api.nvim_buf_is_valid(sidebar.buf)) then
    return ""
  end
  return table.concat(vim.api.nvim_buf_get_lines(sidebar.buf, 0, -1, false), "\n") .. "\n"
end

local function wait_for_text(fn, needle)
  local ok = vim.wait(10000, function()
    return fn():find(needle, 1, true) ~= nil
  end, 20)
  assert(ok, ("timed out waiting for %q in:\n%s"):format(needle, fn()))
end

local function wait_for_match(fn, pattern)
  local ok = vim.wait(10000, function()
    return fn():find(pattern) ~= nil
  end, 20)
  assert(ok, ("timed out waiting for /%s/ in:\n%s"):format(pattern, fn()))
end

local function cli(args)
  local done = vim.system(vim.list_extend({ bin }, args), { cwd = repo }):wait()
  assert.are.equal(0, done.code, done.stderr)
  return done.stdout
end

--- The claims in force, as `switchboard claims --json` lists them.
local function claims()
  return vim.json.decode(cli({ "claims", "--json" }))
end

local function claim_of(pattern)
  for _, c in ipairs(claims()) do
    if c.pattern == pattern then
      return c
    end
  end
end

local function wait_until(fn, what)
  assert(vim.wait(10000, fn, 50), what())
end

--- Runs `fn` with vim.notify recording into the returned list.
local function recording_notify(fn)
  local said, notify = {}, vim.notify
  vim.notify = function(msg, level)
    table.insert(said, { msg = msg, level = level })
  end
  local ok, err = pcall(fn, said)
  vim.notify = notify
  assert(ok, err)
  return said
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
  it("the sidebar lists claims with holder, expiry and reason", function()
    wait_for_text(sidebar_text, "\nClaims\n")
    wait_for_match(sidebar_text, "\n  src/%*%*  claude  until [%d%- ]*%d%d:%d%d  refactoring auth\n")
  end)

  it("shows a claim made elsewhere live, marked shared", function()
    cli({ "claim", "docs/**", "--shared", "--reason", "writing docs", "--as", "human:grace" })
    wait_for_match(sidebar_text, "\n  docs/%*%*  human:grace  until [%d%- ]*%d%d:%d%d  writing docs %[shared%]")
  end)

  it(":Switchboard claim claims the current file (anchored) for you, asking the reason", function()
    vim.cmd("edit " .. vim.fn.fnameescape(repo .. "/app.rs"))
    local input, prompt = vim.ui.input, nil
    vim.ui.input = function(opts, on_confirm)
      prompt = opts.prompt
      on_confirm("tidying app")
    end
    local ok, err = pcall(vim.cmd, "Switchboard claim")
    wait_until(function()
      return claim_of("/app.rs") ~= nil
    end, function()
      return "/app.rs was not claimed: " .. vim.inspect(claims())
    end)
    vim.ui.input = input
    assert(ok, err)
    local c = claim_of("/app.rs")
    assert.are.equal(human, c.agent)
    assert.are.equal("tidying app", c.reason)
    assert.are.equal("exclusive", c.mode)
    assert.is_truthy(prompt and prompt:find("app.rs", 1, true), prompt)
    wait_for_match(sidebar_text, "\n  /app%.rs  " .. vim.pesc(human) .. "  until [%d%- ]*%d%d:%d%d  tidying app\n")
  end)

  it(":Switchboard claim shows the refusal naming the holder", function()
    local said = recording_notify(function(said)
      vim.cmd("Switchboard claim src/auth/login.rs -- my turn")
      assert(vim.wait(10000, function()
        return vim.iter(said):any(function(s)
          return s.level == vim.log.levels.ERROR
        end)
      end, 20), "no error was shown: " .. vim.inspect(said))
    end)
    local shown = vim.iter(said):find(function(s)
      return s.level == vim.log.levels.ERROR
    end)
    assert.is_truthy(shown.msg:find("claude", 1, true), shown.msg)
    assert.is_nil(claim_of("src/auth/login.rs"))
  end)

  it(":Switchboard release with no argument picks among your own claims", function()
    local select, offered = vim.ui.select, nil
    vim.ui.select = function(items, opts, on_choice)
      offered = vim.tbl_map(opts.format_item, items)
      for _, item in ipairs(items) do
        if item.claim.pattern == "/app.rs" then
          return on_choice(item)
        end
      end
      on_choice(nil)
    end
    local ok, err = pcall(vim.cmd, "Switchboard release")
    wait_until(function()
      return offered ~= nil and claim_of("/app.rs") == nil
    end, function()
      return "/app.rs was not released: " .. vim.inspect({ offered = offered, claims = claims() })
    end)
    vim.ui.select = select
    assert(ok, err)
    assert.are.equal(1, #offered, vim.inspect(offered))
    assert.is_truthy(offered[1]:find("^/app%.rs  " .. vim.pesc(human) .. "  until"), offered[1])
    assert.is_not_nil(claim_of("src/**"))
    wait_until(function()
      return not sidebar_text():find("/app.rs  " .. human, 1, true)
    end, sidebar_text)
  end)

  it(":Switchboard release takes a pattern or all", function()
    vim.cmd("Switchboard claim --shared --ttl=2h notes/a.txt notes/b.txt -- two files")
    wait_until(function()
      return claim_of("notes/a.txt") ~= nil and claim_of("notes/b.txt") ~= nil
    end, function()
      return vim.inspect(claims())
    end)
    assert.are.equal("shared", claim_of("notes/a.txt").mode)
    vim.cmd("Switchboard release notes/a.txt")
    wait_until(function()
      return claim_of("notes/a.txt") == nil
    end, function()
      return vim.inspect(claims())
    end)
    assert.is_not_nil(claim_of("notes/b.txt"))
    vim.cmd("Switchboard release all")
    wait_until(function()
      return claim_of("notes/b.txt") == nil
    end, function()
      return vim.inspect(claims())
    end)
    assert.is_not_nil(claim_of("src/**"))
    assert.is_not_nil(claim_of("docs/**"))
  end)

  it(":Switchboard claim in a worktree claims the file relative to the worktree's root", function()
    local state = require("switchboard.sidebar").state
    local worktree = state.repos[1].worktrees[1].worktree.path
    vim.cmd("edit " .. vim.fn.fnameescape(worktree .. "/app.rs"))
    vim.cmd("Switchboard claim -- from the worktree")
    wait_until(function()
      local c = claim_of("/app.rs")
      return c ~= nil and c.reason == "from the worktree" and c.agent == human
    end, function()
      return vim.inspect(claims())
    end)
    vim.cmd("Switchboard release /app.rs")
    wait_until(function()
      return claim_of("/app.rs") == nil
    end, function()
      return vim.inspect(claims())
    end)
  end)

  --- Puts the cursor, in the sidebar, on the last line holding `text`.
  local function sidebar_cursor_on(text)
    local sidebar = require("switchboard.sidebar")
    vim.api.nvim_set_current_win(sidebar.win)
    local row
    for i, line in ipairs(vim.api.nvim_buf_get_lines(sidebar.buf, 0, -1, false)) do
      if line:find(text, 1, true) then
        row = i
      end
    end
    assert.is_not_nil(row, text)
    vim.api.nvim_win_set_cursor(sidebar.win, { row, 0 })
  end

  it("x in the sidebar releases the claim under the cursor", function()
    vim.cmd("Switchboard claim lib/** -- lib work")
    wait_for_text(sidebar_text, "lib/**  " .. human)
    sidebar_cursor_on("lib/**")
    vim.api.nvim_feedkeys("x", "x", false)
    wait_until(function()
      return claim_of("lib/**") == nil
    end, function()
      return vim.inspect(claims())
    end)
    wait_until(function()
      return not sidebar_text():find("lib/**", 1, true)
    end, sidebar_text)
  end)

  it("x on someone else's claim asks first, and cancelling keeps it", function()
    wait_for_match(sidebar_text, "\n  src/%*%*  claude  ")
    sidebar_cursor_on("src/**  claude")
    local confirm, asked = vim.fn.confirm, nil
    vim.fn.confirm = function(question)
      asked = question
      return 2
    end
    vim.api.nvim_feedkeys("x", "x", false)
    vim.fn.confirm = confirm
    assert.is_truthy(asked and asked:find("claude's claim of src/**", 1, true), asked)
    vim.wait(300)
    assert.is_not_nil(claim_of("src/**"), "cancelled: the claim stays")
  end)

  it("renders claims: shared and stale marked, none, or no section without claims", function()
    local view = require("switchboard.view")
    local base = { human = "human:ada", root = "/r", sessions = {}, worktrees = {}, inbox = { unread = 0, recent = {} } }
    local now = view.epoch("2026-11-30T12:00:00Z")
    local with = vim.tbl_extend("force", base, { claims = {
      { id = "clm_1", pattern = "src/**", mode = "shared", agent = "claude", session = "ses_1", reason = "refactoring auth", created_at = "2026-11-30T11:00:00Z", expires_at = "2026-11-30T12:05:00Z", state = "stale", stale_reason = "no heartbeat" },
    } })
    local text = table.concat(view.render({ repos = { with } }, now), "\n")
    local at = os.date("%H:%M", view.epoch("2026-11-30T12:05:00Z"))
    assert.truthy(text:find("\nClaims\n  src/**  claude  until " .. at .. "  refactoring auth [shared] [stale]", 1, true), text)
    local none = table.concat(view.render({ repos = { vim.tbl_extend("force", base, { claims = {} }) } }, now), "\n")
    assert.truthy(none:find("Claims\n  (none)", 1, true), none)
    local old = table.concat(view.render({ repos = { base } }, now), "\n")
    assert.falsy(old:find("Claims", 1, true), old)
    assert.are.equal("until 2026-12-01 " .. os.date("%H:%M", view.epoch("2026-12-01T09:30:00Z")), view.until_text("2026-12-01T09:30:00Z", view.epoch("2026-11-30T08:00:00Z")))
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
