%% Bathysphere's agent: loaded into a target node by the VS Code extension.
%%
%% One owner process per client. The owner watches the client (a hidden node)
%% with monitor_node/2 and a process monitor on the client's mailbox; when the
%% client goes away it kills every process it started and exits, so the node is
%% left as it was. The module must compile from source on the target with
%% compile:forms/2 after erl_scan/erl_parse, so it uses no macros, records or
%% include files.
-module(bathysphere_agent).

-export([version/0, start/1, stop/1, start_child/4, children/1, owners/0]).
-export([owner_init/2]).

%% Bump together with AGENT_VERSION in src/extension/erlang/agent.ts.
version() -> <<"0.3.0">>.

%% Starts an owner for the client whose mailbox is ClientPid.
start(ClientPid) when is_pid(ClientPid) ->
    Starter = self(),
    Owner = spawn(bathysphere_agent, owner_init, [ClientPid, Starter]),
    Monitor = erlang:monitor(process, Owner),
    receive
        {Owner, ready} ->
            erlang:demonitor(Monitor, [flush]),
            {ok, Owner};
        {'DOWN', Monitor, process, Owner, Reason} ->
            {error, Reason}
    after 5000 ->
        exit(Owner, kill),
        {error, timeout}
    end.

%% Stops an owner and everything it started; returns once it is gone.
stop(Owner) when is_pid(Owner) ->
    Monitor = erlang:monitor(process, Owner),
    Owner ! {bathysphere_stop, self()},
    receive
        {'DOWN', Monitor, process, Owner, _} -> ok
    after 5000 ->
        exit(Owner, kill),
        receive {'DOWN', Monitor, process, Owner, _} -> ok end
    end.

%% Starts M:F(A...) as a process owned (and cleaned up) by Owner.
start_child(Owner, M, F, A) when is_pid(Owner), is_atom(M), is_atom(F), is_list(A) ->
    call(Owner, {start_child, M, F, A}).

children(Owner) when is_pid(Owner) ->
    call(Owner, children).

%% Every live owner on this node (of any client).
owners() ->
    [P || P <- processes(), is_owner(P)].

is_owner(Pid) ->
    case erlang:process_info(Pid, dictionary) of
        {dictionary, Dict} -> lists:keymember(bathysphere_owner, 1, Dict);
        undefined -> false
    end.

call(Owner, Request) ->
    Monitor = erlang:monitor(process, Owner),
    Owner ! {bathysphere_call, self(), Monitor, Request},
    receive
        {Monitor, Reply} ->
            erlang:demonitor(Monitor, [flush]),
            Reply;
        {'DOWN', Monitor, process, Owner, Reason} ->
            {error, {owner_down, Reason}}
    after 5000 ->
        erlang:demonitor(Monitor, [flush]),
        {error, timeout}
    end.

owner_init(ClientPid, Starter) ->
    process_flag(trap_exit, true),
    put(bathysphere_owner, ClientPid),
    erlang:monitor_node(node(ClientPid), true),
    ClientMonitor = erlang:monitor(process, ClientPid),
    Starter ! {self(), ready},
    owner_loop(ClientMonitor, []).

owner_loop(ClientMonitor, Children) ->
    receive
        {nodedown, _Node} ->
            shut_down(Children);
        {'DOWN', ClientMonitor, process, _, _} ->
            shut_down(Children);
        {bathysphere_stop, _From} ->
            shut_down(Children);
        {bathysphere_call, From, Tag, {start_child, M, F, A}} ->
            Child = spawn_link(M, F, A),
            From ! {Tag, {ok, Child}},
            owner_loop(ClientMonitor, [Child | Children]);
        {bathysphere_call, From, Tag, children} ->
            From ! {Tag, Children},
            owner_loop(ClientMonitor, Children);
        {bathysphere_call, From, Tag, _Other} ->
            From ! {Tag, {error, unknown_request}},
            owner_loop(ClientMonitor, Children);
        {'EXIT', Child, Reason} ->
            forget_child(Child, Reason),
            owner_loop(ClientMonitor, lists:delete(Child, Children));
        _Ignored ->
            owner_loop(ClientMonitor, Children)
    end.

%% A child that crashed cannot clean up after itself: clear any trace flags that
%% still name it as their tracer.
forget_child(_Child, normal) -> ok;
forget_child(Child, _Crashed) -> bathysphere_trace_api:sweep(Child).

%% Asks the children to stop (a tracer clears its trace flags on the way out),
%% kills those still there after half a second, and exits.
shut_down(Children) ->
    lists:foreach(fun(Child) -> exit(Child, shutdown) end, Children),
    lists:foreach(fun(Child) -> await_exit(Child, 500) end, Children),
    exit(normal).

await_exit(Child, Timeout) ->
    receive
        {'EXIT', Child, _} -> ok
    after Timeout ->
        exit(Child, kill),
        receive {'EXIT', Child, _} -> ok after 1000 -> ok end,
        bathysphere_trace_api:sweep(Child)
    end.
