-- Runs busted specs inside Neovim (`nvim --headless -l run.lua SPEC...`), using Debian's
-- lua-busted: Neovim's LuaJIT speaks Lua 5.1, so the 5.1 modules load as they are.
package.path = "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;" .. package.path
package.cpath = "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;" .. package.cpath
require("busted.runner")({ standalone = false })
