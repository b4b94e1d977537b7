-- wrk script for scripts/bench-tiles.sh: cycles through the tile paths in the
-- file named after "--" (one per line), asking for gzip as browsers do, and
-- prints one machine-readable RESULT line when the run ends.
local paths = {}
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
end

function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n], { ["Accept-Encoding"] = "gzip" })
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f bytes_per_s=%.0f requests=%d errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.bytes / secs, summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
