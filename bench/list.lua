-- wrk script: GET /light/photos/?QUERY as an owner. Arguments: API_KEY QUERY (e.g. job=7, page_size=100)
function init(args)
  path = "/light/photos/?" .. args[2]
  headers = {["X-API-KEY"] = args[1]}
end

function request()
  return wrk.format("GET", path, headers)
end
