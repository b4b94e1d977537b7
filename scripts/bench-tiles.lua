-- wrk script for scripts/bench-tiles.sh: cycles through the tile paths in the
-- file named after "--" (one per line), asking for gzip as browsers do (or,
-- with "plain" after the file, without it, as some tools do), and prints
-- one machine-readable RESULT line when the run ends.
local paths = {}
local n = 0
local headers = { ["Accept-Encoding"] = "gzip" }

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if args[2] == "plain" then
    headers = {}
  end
end

function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n], headers)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f bytes_per_s=%.0f requests=%d errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.bytes / secs, summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
