@echo off
rem Launcher for Windows: runs the packaged program (cli\target\restore-rwkv.jar + cli\target\lib\),
rem building it first if needed. The same options as the POSIX launcher ./restore-rwkv.
setlocal
set "HERE=%~dp0"
set "JAR=%HERE%cli\target\restore-rwkv.jar"
if exist "%JAR%" goto run
echo restore-rwkv: building ^(first run^) ... 1>&2
pushd "%HERE%"
call mvn -q -B package -DskipTests 1>&2
if errorlevel 1 ( popd & exit /b 1 )
popd
:run
rem libtorch's OpenMP threads sleep instead of spinning while they wait (see ./restore-rwkv)
if not defined OMP_WAIT_POLICY set "OMP_WAIT_POLICY=PASSIVE"
rem the serial collector, large arrays straight to the old generation: see ./restore-rwkv
if not defined RESTORE_RWKV_JAVA_OPTS set "RESTORE_RWKV_JAVA_OPTS=-Xmx8g -XX:+UseSerialGC -XX:PretenureSizeThreshold=1m"
java %RESTORE_RWKV_JAVA_OPTS% --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true -jar "%JAR%" %*
exit /b %ERRORLEVEL%
