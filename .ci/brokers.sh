# Sourced by .ci/run and `make bench`: exports PASSLINE_TEST_MQTT and
# PASSLINE_TEST_NATS for this machine's Mosquitto and nats-server when they
# listen on 127.0.0.1:1883 and 127.0.0.1:4222, and says which is missing
# (its real-broker tests then skip, and make bench embeds one instead).

reachable() { # host port
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

if reachable 127.0.0.1 1883; then
	export PASSLINE_TEST_MQTT=tcp://127.0.0.1:1883
else
	echo "no MQTT broker on 127.0.0.1:1883: real-Mosquitto tests skip, make bench embeds one"
fi
if reachable 127.0.0.1 4222; then
	export PASSLINE_TEST_NATS=nats://127.0.0.1:4222
else
	echo "no NATS server on 127.0.0.1:4222: real-nats-server tests skip, make bench embeds one"
fi
