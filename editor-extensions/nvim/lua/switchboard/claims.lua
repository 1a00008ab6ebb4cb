-- File claims from the editor: claim the current file or patterns for the human at the
-- editor, release them. The companion's refusals (naming the holder) are shown as they are.
local client = require("switchboard.client")
local view = require("switchboard.view")

local M = {}

local function notify(text, level)
  vim.notify("switchboard: " .. text, level or vim.log.levels.INFO)
end

local function real(path)
  return vim.fs.normalize(vim.uv.fs_realpath(path) or path)
end

--- `path` relative to the folder `dir`, or nil when it is not inside it.
local function inside(path, dir)
  if path == dir then
    return ""
  end
  local prefix = dir:sub(-1) == "/" and dir or (dir .. "/")
  if path:sub(1, #prefix) == prefix then
    return path:sub(#prefix + 1)
  end
end

--- Where `file` (an absolute path, or nil) is: its path relative to the root of its
--- checkout (the main one or a worktree), and the repository of `state` holding that
--- checkout (nil when none does; the only one when `file` is nil and there is one).
function M.locate(state, file)
  local repos = (state and state.repos) or {}
  local checkout = file and vim.fs.root(file, ".git") or vim.fs.root(vim.fn.getcwd(), ".git")
  local rel = (file and checkout) and inside(real(file), real(checkout)) or nil
  if checkout then
    checkout = real(checkout)
    for _, repo in ipairs(repos) do
      if inside(checkout, real(repo.root)) then
        return repo, rel
      end
      for _, w in ipairs(repo.worktrees or {}) do
        if real(w.worktree.path) == checkout then
          return repo, rel
        end
      end
    end
  end
  if not file and #repos == 1 then
    return repos[1], nil
  end
  return nil, rel
end

--- The pattern that covers exactly the file at `rel` (relative to the repository root):
--- glob characters escaped, and a file at the root anchored with `/` (a bare name would
--- cover that name at any depth, as in .gitignore).
function M.file_pattern(rel)
  local escaped = rel:gsub("[%[%]%*%?{}\\!]", "\\%0")
  return rel:find("/", 1, true) and escaped or ("/" .. escaped)
end

--- The file of buffer `bufnr`, or nil for a buffer that is not a file.
local function buffer_file(bufnr)
  if vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= "" and name or nil
end

--- Claims `patterns` (default: the current buffer's file) for you. `opts`: `reason` (asked
--- with `vim.ui.input` when absent), `shared`, `ttl` ("30m", "2h"…), `take_over`;
--- `on_done(err, claims)` is called after the companion answers.
function M.claim(patterns, opts, on_done)
  opts = opts or {}
  patterns = patterns or {}
  on_done = on_done or function() end
  local file = buffer_file(vim.api.nvim_get_current_buf())
  client.request("switchboard/state", {}, function(err, state)
    vim.schedule(function()
      if err then
        notify(err, vim.log.levels.ERROR)
        return on_done(err)
      end
      local repo, rel = M.locate(state, file)
      if #patterns == 0 then
        patterns = { "%" }
      end
      -- `%` is the current buffer's file, relative to its checkout's root.
      if vim.tbl_contains(patterns, "%") and (not rel or rel == "") then
        local why = "this buffer is not a file in a repository: give a pattern (:Switchboard claim src/**)"
        notify(why, vim.log.levels.ERROR)
        return on_done(why)
      end
      patterns = vim.tbl_map(function(p)
        return p == "%" and M.file_pattern(rel) or p
      end, patterns)
      local function send(reason)
        if not reason or vim.trim(reason) == "" then
          return on_done("no reason given")
        end
        local args = {
          repo = repo and repo.root or file or vim.fn.getcwd(),
          patterns = patterns,
          reason = vim.trim(reason),
          shared = opts.shared or nil,
          ttl = opts.ttl,
          take_over = opts.take_over or nil,
        }
        client.command("switchboard.claim", args, function(cerr, made)
          vim.schedule(function()
            if cerr then
              notify(cerr, vim.log.levels.ERROR)
              return on_done(cerr)
            end
            local said = {}
            for _, c in ipairs(made or {}) do
              table.insert(said, c.pattern .. " " .. view.until_text(c.expires_at))
            end
            notify("claimed " .. table.concat(said, ", "))
            on_done(nil, made)
          end)
        end)
      end
      if opts.reason then
        send(opts.reason)
      else
        vim.ui.input({ prompt = "Claim " .. table.concat(patterns, " ") .. " — reason: " }, send)
      end
    end)
  end)
end

--- What one release argument means: "all", a claim id (clm_…) or a pattern as claimed.
local function which(arg)
  if arg == "all" then
    return { all = true }
  elseif arg:match("^clm_") then
    return { id = arg }
  end
  return { pattern = arg }
end

--- Releases one claim: `args` is `{repo, id | pattern | all}`.
function M.release_one(args, on_done)
  on_done = on_done or function() end
  client.command("switchboard.release", args, function(err, released)
    vim.schedule(function()
      if err then
        notify(err, vim.log.levels.ERROR)
        return on_done(err)
      end
      local said = {}
      for _, c in ipairs(released or {}) do
        table.insert(said, c.pattern)
      end
      if #said == 0 then
        notify("nothing to release: no claim of yours matches " .. (args.id or args.pattern or "all"), vim.log.levels.WARN)
      else
        notify("released " .. table.concat(said, ", "))
      end
      on_done(nil, released or {})
    end)
  end)
end

--- Releases your claims by id (clm_…), by pattern as claimed, or "all"; with no
--- argument, asks which of yours with `vim.ui.select`.
function M.release(targets, on_done)
  targets = targets or {}
  on_done = on_done or function() end
  local file = buffer_file(vim.api.nvim_get_current_buf())
  client.request("switchboard/state", {}, function(err, state)
    vim.schedule(function()
      if err then
        notify(err, vim.log.levels.ERROR)
        return on_done(err)
      end
      if #targets == 0 then
        local choices = {}
        for _, repo in ipairs(state.repos or {}) do
          for _, c in ipairs(view.own_claims(repo)) do
            table.insert(choices, { repo = repo.root, claim = c })
          end
        end
        if #choices == 0 then
          notify("you hold no claims", vim.log.levels.WARN)
          return on_done(nil, {})
        end
        return vim.ui.select(choices, {
          prompt = "Release which claim?",
          format_item = function(choice)
            return view.claim(choice.claim)
          end,
        }, function(choice)
          if not choice then
            return on_done(nil, {})
          end
          M.release_one({ repo = choice.repo, id = choice.claim.id }, on_done)
        end)
      end
      local repo = M.locate(state, file) or (state.repos or {})[1]
      local root = repo and repo.root or file or vim.fn.getcwd()
      -- One release per argument, in order: what was released is said before a later one fails.
      local all, i = {}, 0
      local function next_one(rerr, released)
        vim.list_extend(all, released or {})
        i = i + 1
        if rerr or i > #targets then
          return on_done(rerr, all)
        end
        M.release_one(vim.tbl_extend("force", { repo = root }, which(targets[i])), next_one)
      end
      next_one(nil, {})
    end)
  end)
end

--- Parses `:Switchboard claim` arguments: `[--shared] [--take-over] [--ttl=2h] [PATTERN…]
--- [-- REASON…]`. Returns the patterns and the options, or nil and what is wrong.
function M.parse_claim_args(fargs)
  local patterns, opts = {}, {}
  local i = 1
  while i <= #fargs do
    local a = fargs[i]
    if a == "--" then
      local reason = table.concat(vim.list_slice(fargs, i + 1), " ")
      opts.reason = reason ~= "" and reason or nil
      break
    elseif a == "--shared" then
      opts.shared = true
    elseif a == "--take-over" then
      opts.take_over = true
    elseif a == "--ttl" then
      i = i + 1
      opts.ttl = fargs[i]
    elseif a:match("^%-%-ttl=") then
      opts.ttl = a:sub(7)
    elseif a:match("^%-%-") then
      return nil, "unknown option " .. a
    else
      table.insert(patterns, a)
    end
    i = i + 1
  end
  if opts.ttl == "" or (fargs[#fargs] == "--ttl" and not opts.ttl) then
    return nil, "--ttl needs a duration (30m, 2h…)"
  end
  return patterns, opts
end

return M
