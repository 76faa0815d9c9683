-- wrk script: GET /light/photos/?job=JOB as an owner. Arguments: API_KEY JOB
function init(args)
  path = "/light/photos/?job=" .. args[2]
  headers = {["X-API-KEY"] = args[1]}
end

function request()
  return wrk.format("GET", path, headers)
end
