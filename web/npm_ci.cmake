# `npm ci` in PROJECT_DIR when node_modules is missing or older than package-lock.json (npm ci
# writes node_modules/.package-lock.json last); then touches STAMP, which the vite build depends
# on. A STAMP that is already there and a node_modules that is current cost nothing.
set(installed "${PROJECT_DIR}/node_modules/.package-lock.json")
set(lock "${PROJECT_DIR}/package-lock.json")
if(NOT EXISTS "${installed}" OR "${lock}" IS_NEWER_THAN "${installed}")
  message(STATUS "web: npm ci in ${PROJECT_DIR}")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY "${PROJECT_DIR}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "web: `npm ci` failed in ${PROJECT_DIR} (the npm registry must be "
      "reachable once; scripts/install-deps.sh runs the same)")
  endif()
  file(TOUCH "${STAMP}")
elseif(NOT EXISTS "${STAMP}")
  file(TOUCH "${STAMP}")
endif()
