%% A snapshot of the node, for the session header. Compiles from source on the
%% target too, so: no macros, records or include files.
-module(bathysphere_info).

-export([snapshot/0]).

snapshot() ->
    {UptimeMs, _} = erlang:statistics(wall_clock),
    #{node => node(),
      otp_release => list_to_binary(erlang:system_info(otp_release)),
      erts_version => list_to_binary(erlang:system_info(version)),
      process_count => erlang:system_info(process_count),
      schedulers => erlang:system_info(schedulers_online),
      memory_total => erlang:memory(total),
      uptime_ms => UptimeMs}.
