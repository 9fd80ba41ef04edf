#!/usr/bin/env bash
# Builds agents/jvm/build/bathysphere-agent.jar with the JDK's own tools and Debian's ASM jars
# (no Maven). Layout of the jar:
#   bathysphere/boot/AgentBoot.class      premain/agentmain, the only class on the app class path
#   META-INF/bathysphere/hook.jar         bathysphere.hook.*  -> bootstrap class path
#   META-INF/bathysphere/runtime.jar      bathysphere.agent.* + ASM -> private class loader
# Also builds the JDI stepper used by the tests: agents/jvm/build/tools/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/build"
asm_dir="${ASM_DIR:-/usr/share/java}"
asm_jars=("$asm_dir/asm.jar" "$asm_dir/asm-tree.jar" "$asm_dir/asm-analysis.jar")
for jar in "${asm_jars[@]}"; do
  [ -f "$jar" ] || { echo "missing $jar (apt-get install libasm-java)" >&2; exit 1; }
done
asm_cp="$(IFS=:; echo "${asm_jars[*]}")"

rm -rf "$out/classes" "$out/stage"
mkdir -p "$out/classes/hook" "$out/classes/runtime" "$out/classes/boot" "$out/stage/META-INF/bathysphere" "$out/tools"

javac_opts=(--release 17 -g -nowarn -Xlint:none -encoding UTF-8)
javac "${javac_opts[@]}" -d "$out/classes/hook" $(find "$here/src/hook" -name '*.java')
javac "${javac_opts[@]}" -cp "$out/classes/hook:$asm_cp" -d "$out/classes/runtime" \
  $(find "$here/src/runtime" -name '*.java')
javac "${javac_opts[@]}" -d "$out/classes/boot" $(find "$here/src/boot" -name '*.java')

# ASM goes inside runtime.jar: it is only ever loaded by the agent's private class loader.
(cd "$out/classes/runtime" && for jar in "${asm_jars[@]}"; do jar xf "$jar" org; done)
jar cf "$out/stage/META-INF/bathysphere/hook.jar" -C "$out/classes/hook" .
jar cf "$out/stage/META-INF/bathysphere/runtime.jar" -C "$out/classes/runtime" .

cat > "$out/stage/manifest.txt" <<MANIFEST
Premain-Class: bathysphere.boot.AgentBoot
Agent-Class: bathysphere.boot.AgentBoot
Can-Retransform-Classes: true
Can-Redefine-Classes: true
MANIFEST
jar cfm "$out/bathysphere-agent.jar.tmp" "$out/stage/manifest.txt" \
  -C "$out/classes/boot" . -C "$out/stage" META-INF/bathysphere
mv "$out/bathysphere-agent.jar.tmp" "$out/bathysphere-agent.jar"

# Test tools (JDI stepper, attach helper): plain classes, run with java -cp.
if [ -n "$(find "$here/tools" -name "*.java" 2>/dev/null)" ]; then
  javac "${javac_opts[@]}" -d "$out/tools" $(find "$here/tools" -name '*.java')
fi
echo "built $out/bathysphere-agent.jar"
