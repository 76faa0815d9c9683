-- wrk script: POST /light/photos/ with realistic, varied bodies.
-- Arguments after `--`: API_KEY JOB_1 JOB_2 INSPECTION_ITEM ESTIMATE_ITEM SUPPLEMENTAL_ITEM CHANGE_ORDER_ITEM
local counter = 0
local threads = 0

-- Each thread gets its own `thread_id` global (a local here would hide it), so
-- no two requests of a run share a client_id.
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  key, job1, job2, jil, est, sup, co = args[1], args[2], args[3], args[4], args[5], args[6], args[7]
  run = tostring(os.time())
  headers = {["X-API-KEY"] = key, ["Content-Type"] = "application/json"}
end

local tags = {'["hail"]', '["hail","ridge"]', '[]', '["gutter","north slope"]', '["before"]'}
local gps = {
  '"latitude": 40.7128, "longitude": -74.0060',
  '"GPSLatitude": [[39,1],[44,1],[2112,100]], "GPSLatitudeRef": "N", "GPSLongitude": "104/1,59/1,2388/100", "GPSLongitudeRef": "W"',
  '"{GPS}": {"GPSLatitude": 41.8781, "GPSLatitudeRef": "N", "GPSLongitude": 87.6298, "GPSLongitudeRef": "W"}',
}

function request()
  counter = counter + 1
  local n = counter
  local refs
  if n % 5 == 0 then
    refs = string.format('"job": %s, "job_inspection_line_item": %s, "estimate_line_item": %s, "supplemental_line_item": %s, "change_order_line_item": %s', job1, jil, est, sup, co)
  elseif n % 2 == 0 then
    refs = string.format('"job": %s', job1)
  else
    refs = string.format('"job": %s', job2)
  end
  local body = string.format(
    '{"name": "Roof photo %d.jpg", "description": "Shingle damage, slope %d", %s, "tags": %s, ' ..
    '"related_to": ["claim-%d"], "exif": {"timestamp": %d, %s, "Make": "Apple", "Model": "iPhone 15"}, ' ..
    '"client_id": "bench-%s-%d-%d"}',
    n, n % 4, refs, tags[n % #tags + 1], n % 50, 1732790400000 + n * 1000, gps[n % #gps + 1],
    run, thread_id, n)
  return wrk.format("POST", "/light/photos/", headers, body)
end
