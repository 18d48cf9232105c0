# EVL_SANITIZE selects instrumentation for every target, Duktape included, so that the
# sanitizers see the whole program.
if(EVL_SANITIZE)
  string(REPLACE ";" "," _evl_san "${EVL_SANITIZE}")
  add_compile_options(-fsanitize=${_evl_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_evl_san})
  if("thread" IN_LIST EVL_SANITIZE)
    # TSan cannot share a process with ASan; the preset sets EVL_SANITIZE=thread alone.
    add_compile_definitions(EVL_TSAN=1)
  endif()
endif()
