%% Turns trace messages into the events the client records.
%%
%% Every event is {Kind, TimeUs, Subject, Other, Detail}: Kind an atom, TimeUs
%% the trace's own timestamp as microseconds of system time, Subject the process
%% or port it is about, Other the other side (or none), Detail whatever else the
%% kind needs. Printed terms are bounded (depth and characters) so a huge message
%% or exit reason cannot blow up the tracer or the batch.
-module(bathysphere_event).

-export([from_trace/3, with_text/2, now_us/0, to_us/2, printed/2, message_bytes/1]).

%% An event, or ignore for trace messages we do not record (spawned: the
%% parent's spawn says the same). Offset is erlang:time_offset() in native units.
from_trace({trace_ts, Pid, Tag, A, Ts}, Offset, Limits) ->
    one(Tag, Pid, A, to_us(Ts, Offset), Limits);
from_trace({trace_ts, Pid, Tag, A, B, Ts}, Offset, Limits) ->
    two(Tag, Pid, A, B, to_us(Ts, Offset), Limits);
from_trace(_, _, _) ->
    ignore.

one(exit, Pid, Reason, T, Limits) when is_pid(Pid) ->
    {exit, T, Pid, none, printed(Reason, Limits)};
one(closed, Port, Reason, T, Limits) ->
    {port_closed, T, Port, none, printed(Reason, Limits)};
one(Tag, Port, Other, T, _) when is_port(Port) ->
    {port_tag(Tag), T, Port, Other, Tag};
one(Tag, Pid, Other, T, _)
  when Tag =:= link; Tag =:= unlink; Tag =:= getting_linked; Tag =:= getting_unlinked ->
    {Tag, T, Pid, Other, none};
one(Tag, Pid, Name, T, _) when Tag =:= register; Tag =:= unregister ->
    {Tag, T, Pid, none, Name};
one(_, _, _, _, _) ->
    ignore.

two(spawn, Pid, Child, {M, F, Args}, T, _) ->
    {spawn, T, Pid, Child, {M, F, arity(Args)}};
%% Messages stay raw here: only the ones recorded one by one get printed (see with_text/2).
two(send, Pid, Msg, To, T, _) ->
    {send, T, Pid, To, {message_bytes(Msg), Msg}};
two(send_to_non_existing_process, Pid, Msg, To, T, _) ->
    {send_to_dead, T, Pid, To, {message_bytes(Msg), Msg}};
two(open, Port, Owner, Name, T, _) ->
    {port_open, T, Port, Owner, Name};
two(_, _, _, _, _, _) ->
    ignore.

%% A send event as the client gets it: the message printed, bounded.
with_text({Kind, T, Pid, To, {Bytes, Msg}}, Limits) ->
    {Kind, T, Pid, To, {Bytes, printed(Msg, Limits)}}.

port_tag(link) -> port_link;
port_tag(getting_linked) -> port_link;
port_tag(unlink) -> port_unlink;
port_tag(getting_unlinked) -> port_unlink;
port_tag(register) -> port_register;
port_tag(unregister) -> port_unregister;
port_tag(Other) -> Other.

arity(Args) when is_list(Args) -> length(Args);
arity(Arity) -> Arity.

to_us(Native, Offset) ->
    erlang:convert_time_unit(Native + Offset, native, microsecond).

now_us() ->
    erlang:system_time(microsecond).

%% Heap size of the message in bytes: what sending it copied.
message_bytes(Msg) ->
    erts_debug:flat_size(Msg) * erlang:system_info(wordsize).

%% The term as ~P prints it, at most max_print_chars characters, as a binary.
printed(Term, Limits) ->
    Depth = maps:get(print_depth, Limits),
    Max = maps:get(max_print_chars, Limits),
    Text = io_lib:format("~0tP", [Term, Depth]),
    Chars = lists:flatten(Text),
    Cut = case length(Chars) > Max of
              true -> lists:sublist(Chars, Max) ++ "...";
              false -> Chars
          end,
    unicode:characters_to_binary(Cut).
