%% Facts about the node and its processes, for the session header and the
%% details panel. Compiles from source on the target too, so: no macros,
%% records or include files.
-module(bathysphere_info).

-export([snapshot/0, process_details/1, garbage_collect/1, kill/1, resolve/1,
         process_list/1]).

snapshot() ->
    {UptimeMs, _} = erlang:statistics(wall_clock),
    #{node => node(),
      otp_release => list_to_binary(erlang:system_info(otp_release)),
      erts_version => list_to_binary(erlang:system_info(version)),
      process_count => erlang:system_info(process_count),
      schedulers => erlang:system_info(schedulers_online),
      memory_total => erlang:memory(total),
      uptime_ms => UptimeMs}.

%% What the details panel shows; undefined when the process is gone. The
%% dictionary is reduced to the keys OTP sets ($ancestors, $initial_call...):
%% the rest can be huge and private.
process_details(Pid) when is_pid(Pid) ->
    Items = [current_function, status, message_queue_len, memory, reductions, links,
             monitors, monitored_by, registered_name, trap_exit, dictionary, initial_call,
             group_leader, heap_size, total_heap_size],
    case erlang:process_info(Pid, Items) of
        undefined ->
            undefined;
        Info ->
            Dict = proplists:get_value(dictionary, Info, []),
            Otp = [{Key, Value} || {Key, Value} <- Dict, is_otp_key(Key)],
            maps:put(dictionary, Otp,
                     maps:put(application, application_of(Pid),
                              maps:from_list(lists:keydelete(dictionary, 1, Info))))
    end.

is_otp_key(Key) when is_atom(Key) ->
    case atom_to_list(Key) of
        [$$ | _] -> true;
        _ -> false
    end;
is_otp_key(_) ->
    false.

application_of(Pid) ->
    case catch application:get_application(Pid) of
        {ok, App} -> App;
        _ -> undefined
    end.

garbage_collect(Pid) when is_pid(Pid) ->
    erlang:garbage_collect(Pid).

kill(Pid) when is_pid(Pid) ->
    exit(Pid, kill).

%% A pid from a pid, a registered name, or text such as "<0.85.0>".
resolve(Pid) when is_pid(Pid) -> Pid;
resolve(Name) when is_atom(Name) -> whereis(Name);
resolve(Text) when is_binary(Text) -> resolve(binary_to_list(Text));
resolve([$< | _] = Text) ->
    case catch list_to_pid(Text) of
        Pid when is_pid(Pid) -> Pid;
        _ -> undefined
    end;
resolve(Text) when is_list(Text) ->
    case catch list_to_existing_atom(Text) of
        Name when is_atom(Name) -> whereis(Name);
        _ -> undefined
    end.

%% Up to Max processes with registered name and initial call: what the session
%% has heard of before exploring anything.
process_list(Max) ->
    [{Pid, Name, Call}
     || Pid <- lists:sublist(erlang:processes(), Max),
        [{registered_name, Name}, {initial_call, Call}] <-
            [erlang:process_info(Pid, [registered_name, initial_call])]].
